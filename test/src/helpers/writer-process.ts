/** The writer as a child process (services/writer/dist/main.js), so a test can SIGKILL it. */
import type { AllInOneConfig } from '@trackstream/all-in-one';
import { startServiceProcess, type ServiceProcess } from './service-process';

export type WriterProcess = ServiceProcess;

export function startWriterProcess(config: AllInOneConfig, env: Record<string, string> = {}): Promise<WriterProcess> {
  return startServiceProcess('writer', config, { env });
}
