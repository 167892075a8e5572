import { describe, expect, it } from "vitest";
import { evaluateApp, looksLikeHomeAssistant } from "./app.ts";

const URL_ = "http://192.168.50.101:8123/";
const realPage =
  "<!DOCTYPE html><html><head><title>Home Assistant</title></head><body><home-assistant></home-assistant></body></html>";

describe("looksLikeHomeAssistant", () => {
  it.each([
    {
      name: "the frontend page (title and element)",
      status: 200,
      location: undefined,
      body: realPage,
      ok: true,
    },
    {
      name: "a page with the Home Assistant title",
      status: 200,
      location: undefined,
      body: "<html><head><title>Home Assistant</title>",
      ok: true,
    },
    {
      name: "a page with the <home-assistant> element",
      status: 200,
      location: undefined,
      body: '<html><body><home-assistant class="x"></home-assistant>',
      ok: true,
    },
    {
      name: "a page merely mentioning ha-launch-screen",
      status: 200,
      location: undefined,
      body: "<html><body>Add the ha-launch-screen card",
      ok: false,
    },
    {
      name: "a page merely mentioning home-assistant-main",
      status: 200,
      location: undefined,
      body: "<html><title>Router</title><body>home-assistant-main",
      ok: false,
    },
    {
      name: "a relative redirect to onboarding",
      status: 302,
      location: "/onboarding.html",
      body: "",
      ok: true,
    },
    {
      name: "a relative redirect to login",
      status: 302,
      location: "/auth/authorize?x=1",
      body: "",
      ok: true,
    },
    {
      name: "a same-origin absolute redirect to onboarding",
      status: 302,
      location: "http://192.168.50.101:8123/onboarding.html",
      body: "",
      ok: true,
    },
    {
      name: "a redirect to a foreign host's authorize",
      status: 302,
      location: "https://idp.example.com/oauth2/auth/authorize?client_id=x",
      body: "",
      ok: false,
    },
    {
      name: "a redirect to a router's onboarding page",
      status: 301,
      location: "http://192.168.50.1/cgi/onboarding.html",
      body: "",
      ok: false,
    },
    {
      name: "a same-host redirect to a longer path",
      status: 302,
      location: "/cgi/onboarding.html",
      body: "",
      ok: false,
    },
    {
      name: "a protocol-relative redirect to another host",
      status: 302,
      location: "//evil.example/onboarding.html",
      body: "",
      ok: false,
    },
    { name: "a redirect without Location", status: 302, location: undefined, body: "", ok: false },
    { name: "a server error with the page", status: 503, location: undefined, body: realPage, ok: false },
  ])("$name → $ok", ({ status, location, body, ok }) => {
    expect(looksLikeHomeAssistant(status, location, body, URL_)).toBe(ok);
  });

  it("without the request URL accepts only a relative Location", () => {
    expect(looksLikeHomeAssistant(302, "/onboarding.html", "")).toBe(true);
    expect(looksLikeHomeAssistant(302, "http://192.168.50.101:8123/onboarding.html", "")).toBe(false);
  });
});

describe("evaluateApp", () => {
  it("is done when the probe looked like Home Assistant, else waits", () => {
    const probe = { url: URL_, status: 200, durationMs: 5 };
    expect(evaluateApp({ ...probe, looksLikeHomeAssistant: true }, URL_).state).toBe("done");
    expect(evaluateApp({ ...probe, looksLikeHomeAssistant: false }, URL_).state).toBe("waiting");
    expect(evaluateApp(undefined, URL_).state).toBe("waiting");
  });
});
