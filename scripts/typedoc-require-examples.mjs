/**
 * @file A typedoc plugin for `pnpm run docs`: the project's standard is TSDoc with an `@example`
 * on every public function, and typedoc's own validation only checks that a comment exists. This
 * plugin warns for every exported function (namespace members included) whose comment has no
 * `@example`; `treatWarningsAsErrors` in typedoc.json turns each warning into a failed build.
 *
 * It runs once, on the merged site: with `entryPointStrategy: "packages"` typedoc also validates
 * each package on its own, while its options say `resolve`, and those runs are skipped.
 */
import { Application, ReflectionKind } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    if (app.options.getValue("entryPointStrategy") !== "packages") return;
    for (const fn of project.getReflectionsByKind(ReflectionKind.Function)) {
      const comments = [fn.comment, ...(fn.signatures ?? []).map((s) => s.comment)];
      if (comments.some((c) => c?.getTag("@example") !== undefined)) continue;
      app.logger.warn(`${fn.getFriendlyFullName()} has no @example: every public function shows one (TSDoc)`);
    }
  });
}
