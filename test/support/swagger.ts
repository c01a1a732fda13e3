/** A scoring service's Swagger document, as far as tests read it. */
export interface Swagger {
  swagger: string;
  info: { title: string };
  paths: Record<string, Record<string, { parameters?: { schema: unknown }[] }>>;
  definitions: { ServiceInput: { description?: string; properties: Record<string, unknown>; example?: unknown } };
}
