export { createGateway, type GatewayDeps } from './app';
export { gatewayConfigSpec, readGatewayConfig, type GatewayConfig } from './config';
