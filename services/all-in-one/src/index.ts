export { composeAllInOne, type AllInOne, type WriterPlacement } from './compose';
export { allInOneConfigSpec, readAllInOneConfig, type AllInOneConfig } from './config';
