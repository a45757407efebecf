import { useStdout } from "ink";
import { useEffect } from "react";

/**
 * Reports the terminal size whenever it changes. Streams without a size (not a TTY, or
 * a test's fake stdout) report nothing, so the size given at start stays.
 */
export function useTerminalSize(onSize: (rows: number, columns: number) => void): void {
  const { stdout } = useStdout();
  useEffect(() => {
    const report = () => {
      if (stdout.rows > 0 && stdout.columns > 0) onSize(stdout.rows, stdout.columns);
    };
    report();
    stdout.on("resize", report);
    return () => void stdout.off("resize", report);
  }, [stdout, onSize]);
}
