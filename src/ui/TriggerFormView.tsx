import { Text } from "ink";
import type { TriggerForm } from "./state.js";
import { Styled } from "./Styled.js";
import { stateLook } from "./theme.js";

const FIELDS = [
  { key: "kwargs", label: "kwargs", help: 'a JSON object, e.g. {"days": 7}; empty: {}' },
  { key: "workIds", label: "work IDs", help: 'e.g. 1,2,3 or ["a","b"]; empty: the job\'s selectWork decides' },
] as const;

/**
 * The `T` form's two fields (FORM_LINES lines): each with what it takes, the text typed
 * (the active one with a cursor, its end kept in view) and why Enter refused it.
 */
export function TriggerFormView({ form, rows }: { form: TriggerForm; rows: number }) {
  const lines = FIELDS.flatMap(({ key, label, help }) => {
    const active = form.field === key;
    const error = form.errors[key];
    return [
      <Text key={`${key}-label`} wrap="truncate-end" bold={active}>
        {label} <Text dimColor>— {help}</Text>
      </Text>,
      <Text key={`${key}-text`} wrap="truncate-start">
        {active ? "› " : "  "}
        {form[key]}
        {active ? <Text inverse> </Text> : null}
      </Text>,
      <Text key={`${key}-error`} wrap="truncate-end">
        {error ? <Styled look={stateLook("failed")}>{`  ${error}`}</Styled> : " "}
      </Text>,
    ];
  });
  return <>{lines.slice(0, Math.max(0, rows))}</>;
}
