// cURL's error codes, as Kamailio's http_client reports them: $curlerror(N) is
// curl_easy_strerror(N), and a failed request is logged with the code libcurl would
// have given. The requests here go through the runtime's fetch, which reports a
// failure as a TypeError whose wording differs per runtime (Node's undici, Bun,
// Deno, workerd); classify() reads the codes and phrases each one uses.

export const CURLE_UNSUPPORTED_PROTOCOL = 1;
export const CURLE_URL_MALFORMAT = 3;
export const CURLE_COULDNT_RESOLVE_HOST = 6;
export const CURLE_COULDNT_CONNECT = 7;
export const CURLE_WEIRD_SERVER_REPLY = 8;
export const CURLE_WRITE_ERROR = 23;
export const CURLE_OPERATION_TIMEDOUT = 28;
export const CURLE_SSL_CONNECT_ERROR = 35;
export const CURLE_ABORTED_BY_CALLBACK = 42;
export const CURLE_BAD_FUNCTION_ARGUMENT = 43;
export const CURLE_TOO_MANY_REDIRECTS = 47;
export const CURLE_GOT_NOTHING = 52;
export const CURLE_RECV_ERROR = 56;
export const CURLE_PEER_FAILED_VERIFICATION = 60;

/** curl_easy_strerror() of libcurl 7.88 (Debian 12's), codes 0..99; the codes
 * libcurl no longer uses read "Unknown error", as there. */
const STRERROR: Record<number, string> = {
  0: "No error",
  1: "Unsupported protocol",
  2: "Failed initialization",
  3: "URL using bad/illegal format or missing URL",
  4: "A requested feature, protocol or option was not found built-in in this libcurl due to a build-time decision.",
  5: "Couldn't resolve proxy name",
  6: "Couldn't resolve host name",
  7: "Couldn't connect to server",
  8: "Weird server reply",
  9: "Access denied to remote resource",
  10: "FTP: The server failed to connect to data port",
  11: "FTP: unknown PASS reply",
  12: "FTP: Accepting server connect has timed out",
  13: "FTP: unknown PASV reply",
  14: "FTP: unknown 227 response format",
  15: "FTP: can't figure out the host in the PASV response",
  16: "Error in the HTTP2 framing layer",
  17: "FTP: couldn't set file type",
  18: "Transferred a partial file",
  19: "FTP: couldn't retrieve (RETR failed) the specified file",
  21: "Quote command returned error",
  22: "HTTP response code said error",
  23: "Failed writing received data to disk/application",
  25: "Upload failed (at start/before it took off)",
  26: "Failed to open/read local data from file/application",
  27: "Out of memory",
  28: "Timeout was reached",
  30: "FTP: command PORT failed",
  31: "FTP: command REST failed",
  33: "Requested range was not delivered by the server",
  34: "Internal problem setting up the POST",
  35: "SSL connect error",
  36: "Couldn't resume download",
  37: "Couldn't read a file:// file",
  38: "LDAP: cannot bind",
  39: "LDAP: search failed",
  41: "A required function in the library was not found",
  42: "Operation was aborted by an application callback",
  43: "A libcurl function was given a bad argument",
  45: "Failed binding local connection end",
  47: "Number of redirects hit maximum amount",
  48: "An unknown option was passed in to libcurl",
  49: "Malformed option provided in a setopt",
  52: "Server returned nothing (no headers, no data)",
  53: "SSL crypto engine not found",
  54: "Can not set SSL crypto engine as default",
  55: "Failed sending data to the peer",
  56: "Failure when receiving data from the peer",
  58: "Problem with the local SSL certificate",
  59: "Couldn't use specified SSL cipher",
  60: "SSL peer certificate or SSH remote key was not OK",
  61: "Unrecognized or bad HTTP Content or Transfer-Encoding",
  63: "Maximum file size exceeded",
  64: "Requested SSL level failed",
  65: "Send failed since rewinding of the data stream failed",
  66: "Failed to initialise SSL crypto engine",
  67: "Login denied",
  68: "TFTP: File Not Found",
  69: "TFTP: Access Violation",
  70: "Disk full or allocation exceeded",
  71: "TFTP: Illegal operation",
  72: "TFTP: Unknown transfer ID",
  73: "Remote file already exists",
  74: "TFTP: No such user",
  77: "Problem with the SSL CA cert (path? access rights?)",
  78: "Remote file not found",
  79: "Error in the SSH layer",
  80: "Failed to shut down the SSL connection",
  81: "Socket not ready for send/recv",
  82: "Failed to load CRL file (path? access rights?, format?)",
  83: "Issuer check against peer certificate failed",
  84: "FTP: The server did not accept the PRET command.",
  85: "RTSP CSeq mismatch or invalid CSeq",
  86: "RTSP session error",
  87: "Unable to parse FTP file list",
  88: "Chunk callback failed",
  89: "The max connection limit is reached",
  90: "SSL public key does not match pinned public key",
  91: "SSL server certificate status verification FAILED",
  92: "Stream error in the HTTP/2 framing layer",
  93: "API function called from within callback",
  94: "An authentication function returned an error",
  95: "HTTP/3 error",
  96: "QUIC connection error",
  97: "proxy handshake error",
  98: "SSL Client Certificate required",
  99: "Unrecoverable error in select/poll",
};

/** $curlerror(N), as http_client's pv_get_curlerror: a code above 99 is an HTTP
 * status, a negative one is not a cURL code. */
export function curlErrorText(code: number): string {
  if (code > 99) return "HTTP result code";
  if (code < 0 || !Number.isInteger(code)) return "Bad CURL error code";
  return STRERROR[code] ?? "Unknown error";
}

/** One failed request: the cURL code and what the runtime said. */
export interface TransferError {
  code: number;
  /** the runtime's own words, for the log */
  detail: string;
}

/** Everything a fetch error says about itself: name, message, code, and the same
 * of its cause (Node's undici puts the system error there). */
function describe(e: unknown): { text: string; detail: string } {
  const parts: string[] = [];
  let detail = "";
  for (let err = e as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 3; err = err.cause as typeof err, depth++) {
    if (typeof err !== "object") {
      parts.push(String(err));
      detail ||= String(err);
      break;
    }
    parts.push(String(err.name ?? ""), String(err.message ?? ""), String(err.code ?? ""));
    // the innermost message is the one that names the cause
    if (err.message) detail = String(err.message);
  }
  return { text: parts.join(" "), detail: detail.split("\n")[0] };
}

/** The rules, first match wins: the runtime's code or phrase -> the cURL code. */
const RULES: [RegExp, number][] = [
  [/TooManyRedirects|redirect count exceeded|number of redirects/i, CURLE_TOO_MANY_REDIRECTS],
  [/ENOTFOUND|EAI_AGAIN|EAI_NONAME|dns error|getaddrinfo|name resolution|lookup address/i, CURLE_COULDNT_RESOLVE_HOST],
  [/ECONNREFUSED|connection refused|unable to connect|EHOSTUNREACH|ENETUNREACH|network is unreachable|no route to host/i, CURLE_COULDNT_CONNECT],
  [/CERT|certificate|UnknownIssuer|self.signed|unable to verify|hostname\/IP does not match|ERR_TLS_CERT/i, CURLE_PEER_FAILED_VERIFICATION],
  [/ERR_SSL|EPROTO|TLS|SSL|handshake|corrupt message/i, CURLE_SSL_CONNECT_ERROR],
  [/Malformed_HTTP_Response|HPE_|HTTPParserError|invalid HTTP|parse error|does not match the HTTP/i, CURLE_WEIRD_SERVER_REPLY],
  [/Invalid URL|ERR_INVALID_URL|URL is invalid|Failed to parse URL/i, CURLE_URL_MALFORMAT],
  [/ECONNRESET|other side closed|UND_ERR_SOCKET|closed before message completed|connection closed|socket hang up|EPIPE/i, CURLE_GOT_NOTHING],
];

/** The cURL code of a fetch() that failed before the response head. */
export function classifyFetchError(e: unknown): TransferError {
  const { text, detail } = describe(e);
  for (const [re, code] of RULES) if (re.test(text)) return { code, detail };
  return { code: CURLE_RECV_ERROR, detail };
}

/** The cURL code of a body read that failed after the head arrived. */
export function classifyBodyError(e: unknown): TransferError {
  const t = classifyFetchError(e);
  return t.code === CURLE_GOT_NOTHING ? { code: CURLE_RECV_ERROR, detail: t.detail } : t;
}
