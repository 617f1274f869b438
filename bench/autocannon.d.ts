// The few parts of autocannon's API the benchmarks use (the package ships no types).
declare module 'autocannon' {
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    headers?: Record<string, string>;
    method?: string;
    body?: string;
    /** requests cycled per connection: `setupRequest` rewrites each before it is sent, `onResponse` sees the answer */
    requests?: Request[];
  }
  export interface RawRequest {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: string;
  }
  export interface Request {
    setupRequest?: (req: RawRequest) => RawRequest;
    onResponse?: (status: number, body: string) => void;
  }
  interface Histogram {
    average: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
  }
  interface Result {
    requests: Histogram;
    latency: Histogram;
    non2xx: number;
    errors: number;
  }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
