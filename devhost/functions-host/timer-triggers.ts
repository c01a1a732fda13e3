import { Cron } from "croner";
import type { FunctionRegistry, RegisteredFunction } from "./core-api.js";
import { invokeFunction } from "./invoker.js";
import { resolveSettingExpressions, timespanMs } from "./host-config.js";
import { describe } from "./http-triggers.js";

/**
 * Runs timer-triggered functions on their schedule: a six-field NCRONTAB expression
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`) or an `hh:mm:ss` interval, with
 * `runOnStartup`. A run still going when the next one is due is not overlapped (the host holds a
 * singleton lock per timer function); the next run reports `isPastDue`.
 */
export class TimerTrigger {
  #cron: Cron | undefined;
  #interval: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #last: Date | undefined;
  #stopped = false;

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly fn: RegisteredFunction,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const schedule = resolveSettingExpressions(String(fn.trigger.options.schedule ?? ""), env).trim();
    const everyMs = timespanMs(schedule);
    if (everyMs !== undefined) {
      if (everyMs <= 0) throw new Error(`Timer function "${fn.metadata.name}": the interval "${schedule}" must be positive.`);
      this.#interval = setInterval(() => this.fire(), everyMs);
    } else {
      if (schedule.split(/\s+/).length !== 6) {
        throw new Error(
          `Timer function "${fn.metadata.name}": "${schedule}" is not a six-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week}).`,
        );
      }
      this.#cron = new Cron(schedule, { protect: false }, () => this.fire());
    }
    if (fn.trigger.options.runOnStartup === true) setImmediate(() => this.fire());
  }

  /** Runs the function now, unless a run is under way. */
  fire(): void {
    if (this.#stopped || this.#running) return;
    const now = new Date();
    const next = this.#cron?.nextRun() ?? null;
    const timer = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: { Last: (this.#last ?? now).toISOString(), Next: next?.toISOString() ?? null, LastUpdated: now.toISOString() },
      IsPastDue: false,
    };
    this.#last = now;
    this.#running = invokeFunction(this.registry, this.fn, { triggerData: { json: JSON.stringify(timer) } })
      .then((outcome) => {
        if (!outcome.ok)
          this.registry.log(
            "error",
            `system:${this.fn.metadata.name}`,
            `Executed '${this.fn.metadata.name}' (Failed, Id=${outcome.invocationId}): ${describe(outcome.error)}`,
          );
      })
      .finally(() => {
        this.#running = undefined;
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cron?.stop();
    if (this.#interval) clearInterval(this.#interval);
    await this.#running;
  }
}
