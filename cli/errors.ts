/** A failure to show the user as one message (never a stack trace), with the process's exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** The ErrorResponse code, when the API said no. */
    readonly code?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Exit codes: 1 a request or operation failed, 2 the command line is wrong, 130 stopped by Ctrl-C. */
export const EXIT = { failed: 1, usage: 2, interrupted: 130 } as const;
