// What the global setup hands every test file.
export {};

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
    runId: string;
    s3Endpoint: string;
    redisUrl: string | null;
  }
}
