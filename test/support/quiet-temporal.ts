// Installed before each integration test file, as the entry points install theirs: the runtime logs through our logger
// at WARN (the SDK logs every worker state change at INFO, which buried the test output). Warnings and errors still
// show, and a test can read the lines with whileTemporalLogsTo.
import { installTemporalRuntime } from '../../src/logging/temporal-runtime';
import { temporalTestLogger } from './temporal-log';

installTemporalRuntime(temporalTestLogger, 'warn');
