// A library that only some configurations use (re2js for url_match and the cfg's
// =~, ipaddr.js for allowed_ips and trusted_proxies): imported at start-up when
// the configuration needs it, used synchronously after, so a route that needs
// none of them does not carry them (re2js alone is 300 KB of JavaScript, and on
// Deno the first CommonJS package, ipaddr.js, brings ≈ 6 MiB of RSS). Start-up
// is async and decides: src/config.ts prepareParams for the parameters, the cfg
// loader for its patterns. What builds a handler synchronously (a fetch handler
// made in a Worker's module scope, src/edge.ts) provides them from static imports.

export class OnDemand<T> {
  #value: T | undefined;
  #loading: Promise<T> | undefined;

  constructor(
    /** how an internal error names it */
    private readonly name: string,
    private readonly importer: () => Promise<T>,
  ) {}

  /** import it, once */
  load(): Promise<T> {
    if (this.#value !== undefined) return Promise.resolve(this.#value);
    return (this.#loading ??= this.importer().then((value) => (this.#value ??= value)));
  }

  /** give it from a static import: the caller needs it synchronously from the start */
  provide(value: T): void {
    this.#value ??= value;
  }

  /** it, or undefined while not loaded */
  get loaded(): T | undefined {
    return this.#value;
  }

  /** it; start-up loads it before anything can ask, so not having it is mhttpd's bug */
  get value(): T {
    if (this.#value === undefined) throw new Error(`internal: ${this.name} is used before start-up loaded it`);
    return this.#value;
  }
}
