import { Box, Text } from "ink";
import { render } from "ink-testing-library";
import { describe, expect, test } from "vitest";
import { shareInkCaches } from "../../src/ui/ink-caches.js";

/** A screen whose lines change from frame to frame: colors, wide characters, a clipped row, a line that stays. */
function Screen({ n }: { n: number }) {
  return (
    <Box flexDirection="column" width={30} height={5} overflowY="hidden">
      <Text>stays the same · always</Text>
      <Text color={n % 2 ? "green" : "red"}>frame {n} 漢字 ⠋</Text>
      <Text wrap="truncate-end" inverse={n % 3 === 0}>
        {"a long row that the box cuts off at its edge ".repeat(1 + (n % 2))}
      </Text>
      {Array.from({ length: n % 4 }, (_, i) => (
        <Text key={i} dimColor>
          row {i} of {n}
        </Text>
      ))}
    </Box>
  );
}

function framesOf(count: number): string[] {
  const app = render(<Screen n={0} />);
  const frames: string[] = [];
  for (let n = 0; n < count; n++) {
    app.rerender(<Screen n={n} />);
    frames.push(app.lastFrame() ?? "");
  }
  app.unmount();
  return frames;
}

describe("Ink's frames sharing their caches", () => {
  test("draw exactly what Ink draws on its own, frame after frame", async () => {
    const alone = framesOf(12);
    // Ink's output class is still shaped as the console expects (an Ink upgrade that changes it fails here).
    expect(await shareInkCaches()).toBe(true);
    expect(framesOf(12)).toEqual(alone);
    expect(await shareInkCaches()).toBe(true);
  });
});
