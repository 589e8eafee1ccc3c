// Installed before each integration test file: the Temporal SDK logs every worker state change at INFO, which
// buried the test output. Warnings and errors still show.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
