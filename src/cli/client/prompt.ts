import { CliError, EXIT } from './exit-codes';

/** A terminal to ask on: raw input without echo, and where the question goes. */
export interface Terminal {
  readonly input: NodeJS.ReadStream;
  readonly output: { write(text: string): unknown };
}

/**
 * Asks `question` on the terminal and reads one line without echoing it (a password). Backspace deletes; Ctrl-C and
 * Ctrl-D give up.
 */
export function promptHidden(question: string, terminal: Terminal): Promise<string> {
  const { input, output } = terminal;
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (error === undefined) {
        resolve(value);
      } else {
        reject(error);
      }
    };
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          finish();
          return;
        }
        if (char === '\u0003' || char === '\u0004') {
          finish(new CliError('no password given', EXIT.FAILED));
          return;
        }
        value = char === '\u007f' || char === '\b' ? value.slice(0, -1) : value + char;
      }
    };
    output.write(question);
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}
