/*
 * store_redis_lua: the Redis store's Lua scripts (store_redis_*.lua),
 * compiled into the binary as they are, like the dashboard's files.
 * store_redis.c sends them with SCRIPT LOAD and EVAL.
 */
#include "incbin.h"

    .section .rodata
INCBIN(store_redis_apply_lua, "src/store_redis_apply.lua")
INCBIN(store_redis_check_lua, "src/store_redis_check.lua")
INCBIN(store_redis_write_lua, "src/store_redis_write.lua")

    .section .note.GNU-stack,"",@progbits
