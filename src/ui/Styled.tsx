import { Text } from "ink";
import { useContext, type ReactNode } from "react";
import { ColorContext, type Look } from "./theme.js";

/** Text in a look from the theme; every named color in the console goes through here. */
export function Styled({ look, children }: { look: Look; children?: ReactNode }) {
  const color = useContext(ColorContext);
  return (
    <Text color={color ? look.color : undefined} dimColor={look.dim} bold={look.bold}>
      {children}
    </Text>
  );
}
