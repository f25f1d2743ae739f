export { connectFederation, federationOptions } from './connection.ts';
