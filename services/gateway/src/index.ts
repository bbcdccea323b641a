export { createGateway, type GatewayComponent, type GatewayDeps } from './app';
export { gatewayConfigSpec, gatewayOwnConfigSpec, readGatewayConfig, type GatewayConfig } from './config';
