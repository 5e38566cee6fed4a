import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "@rewind/onnx", include: ["test/**/*.test.ts"], testTimeout: 60_000 },
});
