// NODE_ENV as the user set it, read when this module is first loaded (the CLI loads it
// first): the console sets NODE_ENV to "production" for a moment while it loads React,
// possibly while worker threads start, and job code must see the user's value.
const USER_NODE_ENV = process.env.NODE_ENV;

/** The environment job code runs with: stau's own, with the user's NODE_ENV. */
export function jobEnv(): Record<string, string> {
  const env = { ...process.env } as Record<string, string>;
  if (USER_NODE_ENV === undefined) delete env.NODE_ENV;
  else env.NODE_ENV = USER_NODE_ENV;
  return env;
}
