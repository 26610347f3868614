import type { z } from "zod";

/** zod issues as `path.to.field: message` lines. */
export function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const where = issue.path.length ? issue.path.map(String).join(".") : "(top level)";
    return `${where}: ${issue.message}`;
  });
}
