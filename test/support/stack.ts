// The local stack for tests: the four services as separate processes (the e2e lane), re-exported from the scripts' library.
export {
  startStack,
  freePort,
  chooseRuntime,
  prefixedOutput,
  fileOutput,
  type Stack,
  type StackOptions,
  type StackProcess,
} from '../../scripts/lib/stack';
export { startSmtpSink, type SmtpSink, type CaughtMail } from '../../scripts/lib/smtp';
export { runAudit, formatAudit, type AuditReport } from '../../scripts/lib/audit';
export { openTap, type Tap, type TappedMessage } from '../../scripts/lib/tap';
export { SagaApi } from '../../scripts/lib/api';
