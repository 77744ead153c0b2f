/*
 * web_assets: the dashboard's files (web/), compiled into the binary as they
 * are, so that ghit stays one file to install. web.c looks them up by name.
 * Assembled from the repository root (the Makefile's directory), where the
 * .incbin paths resolve; each file is followed by a NUL for C's sake.
 */
#include "incbin.h"

    .section .rodata
INCBIN(web_index_html, "web/index.html")
INCBIN(web_app_css, "web/app.css")
INCBIN(web_app_js, "web/app.js")

    .section .note.GNU-stack,"",@progbits
