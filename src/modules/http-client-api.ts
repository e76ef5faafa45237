// KSR.http_client: Kamailio's KEMI exports of the http_client module
// (sr_kemi_http_client_exports), with their names and arguments. Each returns a
// promise of the cfg function's code, which the route awaits:
//
//   if ((await KSR.http_client.query("http://api/x", "$var(r)")) !== 200) ...
//
// The code is the HTTP status of the response, or -1 when there was none (the URL
// is refused, the server cannot be reached, TLS fails, connection_timeout or
// route_timeout passes, the body is too large): an error log says which, and
// $curlerror holds cURL's words for it. The body (its first line for the query
// functions while query_result is 1) is stored in the variable named by `dpv`
// for 2xx-4xx answers, "" otherwise. A request's abort signal (route_timeout, the
// client going away) aborts the transfer.
export interface KsrHttpClientApi {
  /** http_client_query(url, dpv): GET */
  query(url: string, dpv: string): Promise<number>;
  /** http_client_query(url, post, dpv): POST when `post` is not empty */
  query_post(url: string, post: string, dpv: string): Promise<number>;
  /** http_client_query(url, post, hdrs, dpv): `hdrs` is "Name: value" lines, CRLF between them */
  query_post_hdrs(url: string, post: string, hdrs: string, dpv: string): Promise<number>;
  /** http_client_get(url, body, hdrs, dpv): GET (a body cannot go with a GET over fetch: -1) */
  get_hdrs(url: string, body: string, hdrs: string, dpv: string): Promise<number>;
  /** http_client_request(method, url, body, hdrs, dpv) */
  query_request(method: string, url: string, body: string, hdrs: string, dpv: string): Promise<number>;
  /** http_connect(connection, url, dpv): GET on a connection declared by modparam("http_client", "httpcon", ...) */
  curl_connect(connection: string, url: string, dpv: string): Promise<number>;
  /** http_connect(connection, url, content_type, data, dpv): POST on a connection */
  curl_connect_post(connection: string, url: string, ctype: string, data: string, dpv: string): Promise<number>;
}
