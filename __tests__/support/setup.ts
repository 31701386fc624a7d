import { Testing } from "cdktf";
// Type-only: brings cdktf's jest matcher declarations (toHaveResourceWithProperties, ...) into scope.
import type {} from "cdktf/lib/testing/adapters/jest";

Testing.setupJest();
