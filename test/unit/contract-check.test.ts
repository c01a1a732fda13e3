import { describe, expect, it } from "vitest";
import { ApiContract } from "../support/contract.js";

const MODEL = "/subscriptions/s/resourceGroups/g/accounts/a/models/m1";
const model = {
  id: "m1",
  name: "iris",
  version: 1,
  mimeType: "application/json",
  url: "https://x/m",
  createdAt: "2026-11-30T12:00:00.000Z",
};

/** The checker the API tests hold every answer to: it must itself find what is outside the contract. */
describe("the contract check of the API tests", () => {
  const contract = new ApiContract();
  const none = new Headers();

  it("passes an answer the contract describes", () => {
    expect(contract.problems("GET", MODEL, 200, none, model)).toEqual([]);
    expect(contract.problems("GET", MODEL, 404, none, { code: "ModelNotFound", message: "no", statusCode: 404 })).toEqual([]);
    expect(contract.problems("GET", "/no/such/route", 200, none, {})).toEqual([]);
  });

  it("finds a field too many or missing, a wrong type, an undocumented status, a missing header, a bad error", () => {
    expect(contract.problems("GET", MODEL, 200, none, { ...model, secret: "x" })[0]).toMatch(/must NOT have additional properties/);
    const { url: _url, ...withoutUrl } = model;
    void _url;
    expect(contract.problems("GET", MODEL, 200, none, withoutUrl)[0]).toMatch(/must have required property 'url'/);
    expect(contract.problems("GET", MODEL, 200, none, { ...model, version: "1" })[0]).toMatch(/must be integer/);
    expect(contract.problems("GET", MODEL, 201, none, model)[0]).toMatch(/no such answer/);
    expect(contract.problems("POST", "/subscriptions/s/resourceGroups/g/accounts/a/images", 202, none, undefined)[0]).toMatch(
      /no operation-location header/,
    );
    expect(contract.problems("GET", MODEL, 500, none, { error: "boom" })[0]).toMatch(/must have required property 'code'/);
  });
});
