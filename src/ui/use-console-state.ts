import { useSyncExternalStore } from "react";
import type { ConsoleStore } from "./console-store.js";
import type { ConsoleState } from "./state.js";

/** The store's current state; re-renders once per dispatched change. */
export function useConsoleState(store: ConsoleStore): ConsoleState {
  return useSyncExternalStore(store.subscribe, store.getState, store.getState);
}
