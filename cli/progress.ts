import cliProgress from "cli-progress";
import { formatBytes } from "../shared/image-building/build-log.js";

interface ByteProgress {
  /** Bytes done so far (absolute). */
  update(done: number): void;
  stop(): void;
}

/**
 * A transfer's progress bar on stderr (size, rate, time left), drawn only on a terminal: piped
 * or redirected output gets no bar, so logs and scripts stay clean.
 */
export function byteProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): ByteProgress {
  if (!stream.isTTY) return { update() {}, stop() {} };
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} {percentage}% | {doneText} of {totalText} | {rateText} | {etaText}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  const fields = (done: number) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const left = rate > 0 ? (total - done) / rate : Infinity;
    return {
      doneText: formatBytes(done),
      totalText: formatBytes(total),
      rateText: `${formatBytes(Math.round(rate))}/s`,
      etaText: Number.isFinite(left) ? `${Math.ceil(left)} s left` : "…",
    };
  };
  bar.start(Math.max(total, 1), 0, fields(0));
  return {
    update: (done) => bar.update(Math.min(done, total), fields(done)),
    stop: () => bar.stop(),
  };
}
