// The tests' names for the service addresses of dev/services.ts (`npm test` makes each one answer first).
export { redisHostPort, services as testServices } from '../../dev/services.ts'
