export { composeAllInOne, type AllInOne } from './compose';
export { allInOneConfigSpec, readAllInOneConfig, type AllInOneConfig } from './config';
