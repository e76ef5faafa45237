/* The C engine under Kamailio's microhttpd module, as the module starts it
 * (src/modules/microhttpd/microhttpd_mod.c: MHD_USE_SELECT_INTERNALLY, one
 * select() thread), answering the benchmark workloads without a cfg
 * interpreter: an upper bound for the module, the anchor of bench/interleave.mjs.
 * Built by bench/lib.mjs from Debian's libmicrohttpd-dev:
 *   cc -O2 -o mhd bench/servers/mhd.c -lmicrohttpd
 * usage: mhd PORT WORKLOAD   (hello | post | headers), listening on 127.0.0.1 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum workload { HELLO, POST, HEADERS };
static enum workload wl;

/* a request's body as it arrives (post): only its length is answered */
struct body {
  size_t size;
};

static enum MHD_Result reply(struct MHD_Connection *c, const char *text) {
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", "text/plain");
  enum MHD_Result ret = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *size, void **state) {
  (void)cls; (void)url; (void)method; (void)version; (void)data;
  /* As the module does: the first call only starts the request (a response queued
   * then is an early one, and MHD closes the connection after it); the body comes
   * in the calls after; the last call, with no data, answers. */
  if (*state == NULL) {
    *state = calloc(1, sizeof(struct body));
    return MHD_YES;
  }
  struct body *b = *state;
  if (*size != 0) {
    b->size += *size;
    *size = 0;
    return MHD_YES;
  }
  char text[512];
  if (wl == POST) {
    snprintf(text, sizeof text, "%zu", b->size);
  } else if (wl == HEADERS) {
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Bench-A");
    const char *hb = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Bench-B");
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char ip[INET6_ADDRSTRLEN] = "";
    if (ci && ci->client_addr->sa_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)ci->client_addr)->sin_addr, ip, sizeof ip);
    snprintf(text, sizeof text, "%s%s%s %s", a ? a : "undefined", hb ? hb : "undefined", ua ? ua : "undefined", ip);
  } else {
    snprintf(text, sizeof text, "Hello");
  }
  free(b);
  *state = NULL;
  return reply(c, text);
}

/* a request that ends before its last call (the client went away) frees its state here */
static void completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode toe) {
  (void)cls; (void)c; (void)toe;
  free(*state);
  *state = NULL;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT [hello|post|headers]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  const char *w = argc > 2 ? argv[2] : "hello";
  wl = strcmp(w, "post") == 0 ? POST : strcmp(w, "headers") == 0 ? HEADERS : HELLO;
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_SELECT_INTERNALLY, port, NULL, NULL, &handle, NULL,
                                          MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                          MHD_OPTION_NOTIFY_COMPLETED, &completed, NULL, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "mhd: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  printf("mhd listening on http://127.0.0.1:%d (c)\n", port);
  fflush(stdout);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  while (!stop) pause();
  MHD_stop_daemon(d);
  return 0;
}
