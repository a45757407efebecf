import { formatDuration } from "../config/duration.js";
import type { DependencySpec, JobSpec } from "../config/spec.js";

// Rendering is for looking at a registry, broken ones included (`stau graph` is where
// people go to understand a cycle), so nothing here throws on cycles or unknown jobs.

export type GraphFormat = "text" | "dot" | "mermaid";

/**
 * The dependency graph of `root` (or of every job, when null) as an indented text tree,
 * a Graphviz `digraph`, or a Mermaid `graph TD`, edges labelled with their maxLag.
 */
export function renderGraph(jobs: ReadonlyMap<string, JobSpec>, root: string | null, format: GraphFormat): string {
  const roots = root === null ? topJobs(jobs) : [root];
  if (format === "text") return roots.map((name) => textTree(jobs, name)).join("\n\n");
  const { nodes, edges } = collect(jobs, roots);
  return format === "dot" ? dot(jobs, nodes, edges) : mermaid(nodes, edges);
}

type Edge = { from: string; dep: DependencySpec };

/** Jobs nothing depends on, then any job left unreached (only a cycle can hide one). */
function topJobs(jobs: ReadonlyMap<string, JobSpec>): string[] {
  const needed = new Set([...jobs.values()].flatMap((spec) => spec.dependencies.map((d) => d.job)));
  const tops = [...jobs.keys()].filter((name) => !needed.has(name)).sort();
  const reached = new Set(collect(jobs, tops).nodes);
  for (const name of [...jobs.keys()].sort()) {
    if (reached.has(name)) continue;
    tops.push(name);
    for (const n of collect(jobs, [name]).nodes) reached.add(n);
  }
  return tops;
}

/** Nodes (breadth-first) and edges reachable from `roots`, each edge once. */
function collect(jobs: ReadonlyMap<string, JobSpec>, roots: string[]): { nodes: string[]; edges: Edge[] } {
  const nodes = [...new Set(roots)];
  const seen = new Set(nodes);
  const edges: Edge[] = [];
  for (let i = 0; i < nodes.length; i++) {
    for (const dep of jobs.get(nodes[i])?.dependencies ?? []) {
      edges.push({ from: nodes[i], dep });
      if (!seen.has(dep.job)) {
        seen.add(dep.job);
        nodes.push(dep.job);
      }
    }
  }
  return { nodes, edges };
}

function edgeNote(dep: DependencySpec): string {
  const parts = [`maxLag ${formatDuration(dep.maxLagMs)}`];
  if (dep.allowMissingWorkIds) parts.push("allowMissingWorkIds");
  if (dep.unique) parts.push("unique");
  if (Object.keys(dep.kwargs).length > 0) parts.push(`kwargs ${JSON.stringify(dep.kwargs)}`);
  return `(${parts.join(", ")})`;
}

/**
 * One tree per root. A job already expanded in this tree is printed again but not
 * expanded again (marked "see above"); one on the current path is marked as a cycle.
 */
function textTree(jobs: ReadonlyMap<string, JobSpec>, root: string): string {
  const lines = [jobs.has(root) ? root : `${root} (unknown job)`];
  const expanded = new Set([root]);
  const walk = (name: string, indent: string, path: Set<string>): void => {
    const deps = jobs.get(name)?.dependencies ?? [];
    deps.forEach((dep, i) => {
      const last = i === deps.length - 1;
      let mark = "";
      if (!jobs.has(dep.job)) mark = " (unknown job)";
      else if (path.has(dep.job)) mark = " (cycle)";
      else if (expanded.has(dep.job) && jobs.get(dep.job)!.dependencies.length > 0) mark = " (see above)";
      lines.push(`${indent}${last ? "└─ " : "├─ "}${dep.job} ${edgeNote(dep)}${mark}`);
      if (mark === "" && jobs.has(dep.job)) {
        expanded.add(dep.job);
        walk(dep.job, indent + (last ? "   " : "│  "), new Set([...path, dep.job]));
      }
    });
  };
  walk(root, "", new Set([root]));
  return lines.join("\n");
}

function dot(jobs: ReadonlyMap<string, JobSpec>, nodes: string[], edges: Edge[]): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = ["digraph stau {", "  rankdir=TB;"];
  for (const name of nodes) {
    lines.push(jobs.has(name) ? `  ${q(name)};` : `  ${q(name)} [style=dashed, label=${q(`${name} (unknown)`)}];`);
  }
  for (const { from, dep } of edges) {
    lines.push(`  ${q(from)} -> ${q(dep.job)} [label=${q(formatDuration(dep.maxLagMs))}];`);
  }
  lines.push("}");
  return lines.join("\n");
}

function mermaid(nodes: string[], edges: Edge[]): string {
  // Job names may hold "-", and "end" is a Mermaid keyword: such names get a plain
  // id and keep their name as the label.
  const ids = new Map<string, string>();
  const lines = ["graph TD"];
  const taken = new Set(nodes);
  nodes.forEach((name, i) => {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name.toLowerCase() !== "end") {
      ids.set(name, name);
      lines.push(`  ${name}`);
      return;
    }
    let id = `job_${i}`;
    while (taken.has(id)) id = `_${id}`;
    taken.add(id);
    ids.set(name, id);
    lines.push(`  ${id}["${name}"]`);
  });
  for (const { from, dep } of edges) {
    lines.push(`  ${ids.get(from)} -->|${formatDuration(dep.maxLagMs)}| ${ids.get(dep.job)}`);
  }
  return lines.join("\n");
}
