/** A tiny structured logger: one JSON object per line on stdout, filtered by LOG_LEVEL. */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type Level = Exclude<keyof typeof LEVELS, "silent">;
export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void>;

export function createLogger(
  name: string,
  level: string = process.env.LOG_LEVEL ?? "info",
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  const min = LEVELS[level as keyof typeof LEVELS] ?? LEVELS.info;
  const at =
    (lvl: Level) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (LEVELS[lvl] >= min)
        write(JSON.stringify({ time: new Date().toISOString(), level: lvl, name, msg, ...fields }));
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
