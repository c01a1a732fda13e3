import { describe, expect, it } from "vitest";
import { byPrecedence, compileRoute } from "../../devhost/functions-host/route-template.js";

describe("route templates", () => {
  it("matches literals case-insensitively and captures parameters decoded", () => {
    const r = compileRoute("subscriptions/{s}/accounts/{a}");
    expect(r.match("/Subscriptions/x%20y/ACCOUNTS/b")).toEqual({ s: "x y", a: "b" });
    expect(r.match("/subscriptions/x/accounts")).toBeUndefined();
    expect(r.match("/subscriptions/x/accounts/b/c")).toBeUndefined();
  });

  it("applies constraints, optional last segments and catch-alls", () => {
    expect(compileRoute("items/{id:int}").match("/items/12")).toEqual({ id: "12" });
    expect(compileRoute("items/{id:int}").match("/items/x")).toBeUndefined();
    expect(compileRoute("items/{id:guid}").match("/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301")).toBeDefined();
    expect(compileRoute("items/{id?}").match("/items")).toEqual({});
    expect(compileRoute("files/{*path}").match("/files/a/b/c")).toEqual({ path: "a/b/c" });
  });

  it("rejects templates it cannot honour", () => {
    expect(() => compileRoute("items/{id:nope}")).toThrow(/unknown constraint/);
    expect(() => compileRoute("items/x{id}")).toThrow(/unsupported segment/);
  });

  it("tries literal segments before parameters", () => {
    const routes = [compileRoute("a/{x}"), compileRoute("a/literal")].sort(byPrecedence);
    expect(routes[0]!.template).toBe("a/literal");
  });
});
