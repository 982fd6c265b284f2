// `cmsgpack.pack(...)`, `cmsgpack.unpack(s)`, `cmsgpack.unpack_one(s [, offset])`,
// `cmsgpack.unpack_limit(s, limit [, offset])`: MessagePack as Redis's scripts have it. Numbers with an
// integer value pack as the smallest integer type, others as float 32 when that is exact, else float 64;
// strings as str (fixstr, str8, str16, str32); a table whose keys are exactly 1…n as an array, any other as a
// map; tables nested deeper than 16 levels, functions and other values as nil. Unpacking accepts every type
// but ext.
#include "LuaRuntimeLibraries.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EKV_MSGPACK_MAX_NESTING 16

/// The bytes being packed. Not a luaL_Buffer: encoding a table pushes keys and values while it grows, which a
/// luaL_Buffer (whose pieces live on the stack) does not allow.
typedef struct {
    unsigned char *bytes;
    size_t length;
    size_t capacity;
    int failed;
} ekv_mp_buffer;

static void ekv_mp_append(ekv_mp_buffer *buffer, const void *bytes, size_t count) {
    if (buffer->failed) return;
    if (buffer->length + count > buffer->capacity) {
        size_t capacity = buffer->capacity == 0 ? 64 : buffer->capacity;
        while (capacity < buffer->length + count) capacity *= 2;
        unsigned char *grown = realloc(buffer->bytes, capacity);
        if (grown == NULL) {
            buffer->failed = 1;
            return;
        }
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->length, bytes, count);
    buffer->length += count;
}

static void ekv_mp_byte(ekv_mp_buffer *buffer, unsigned char byte) { ekv_mp_append(buffer, &byte, 1); }

static void ekv_mp_big_endian(ekv_mp_buffer *buffer, uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; i--) ekv_mp_byte(buffer, (unsigned char)(value >> (8 * i)));
}

static void ekv_mp_length(ekv_mp_buffer *buffer, size_t length, unsigned char fixed, size_t fixed_limit,
                          unsigned char tag8, unsigned char tag16, unsigned char tag32) {
    if (length < fixed_limit) {
        ekv_mp_byte(buffer, (unsigned char)(fixed | length));
    } else if (tag8 != 0 && length <= 0xFF) {
        ekv_mp_byte(buffer, tag8);
        ekv_mp_big_endian(buffer, length, 1);
    } else if (length <= 0xFFFF) {
        ekv_mp_byte(buffer, tag16);
        ekv_mp_big_endian(buffer, length, 2);
    } else {
        ekv_mp_byte(buffer, tag32);
        ekv_mp_big_endian(buffer, length, 4);
    }
}

static void ekv_mp_integer(ekv_mp_buffer *buffer, int64_t value) {
    if (value >= 0) {
        uint64_t u = (uint64_t)value;
        if (u <= 0x7F) ekv_mp_byte(buffer, (unsigned char)u);
        else if (u <= 0xFF) { ekv_mp_byte(buffer, 0xCC); ekv_mp_big_endian(buffer, u, 1); }
        else if (u <= 0xFFFF) { ekv_mp_byte(buffer, 0xCD); ekv_mp_big_endian(buffer, u, 2); }
        else if (u <= 0xFFFFFFFFULL) { ekv_mp_byte(buffer, 0xCE); ekv_mp_big_endian(buffer, u, 4); }
        else { ekv_mp_byte(buffer, 0xCF); ekv_mp_big_endian(buffer, u, 8); }
    } else {
        if (value >= -32) ekv_mp_byte(buffer, (unsigned char)(int8_t)value);
        else if (value >= -128) { ekv_mp_byte(buffer, 0xD0); ekv_mp_big_endian(buffer, (uint64_t)value, 1); }
        else if (value >= -32768) { ekv_mp_byte(buffer, 0xD1); ekv_mp_big_endian(buffer, (uint64_t)value, 2); }
        else if (value >= -2147483648LL) { ekv_mp_byte(buffer, 0xD2); ekv_mp_big_endian(buffer, (uint64_t)value, 4); }
        else { ekv_mp_byte(buffer, 0xD3); ekv_mp_big_endian(buffer, (uint64_t)value, 8); }
    }
}

static void ekv_mp_number(ekv_mp_buffer *buffer, lua_Number number) {
    if (isfinite(number) && number >= -9223372036854775808.0 && number < 9223372036854775808.0 &&
        (lua_Number)(int64_t)number == number) {
        ekv_mp_integer(buffer, (int64_t)number);
        return;
    }
    float narrow = (float)number;
    if ((lua_Number)narrow == number) {
        uint32_t bits;
        memcpy(&bits, &narrow, sizeof(bits));
        ekv_mp_byte(buffer, 0xCA);
        ekv_mp_big_endian(buffer, bits, 4);
    } else {
        uint64_t bits;
        double wide = (double)number;
        memcpy(&bits, &wide, sizeof(bits));
        ekv_mp_byte(buffer, 0xCB);
        ekv_mp_big_endian(buffer, bits, 8);
    }
}

/// The array length of the table at `index` when its keys are exactly 1…n, else -1.
static long ekv_mp_array_length(lua_State *L, int index) {
    long count = 0, largest = 0;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
            lua_pop(L, 1);
            return -1;
        }
        lua_Number key = lua_tonumber(L, -1);
        if (key < 1 || floor(key) != key) {
            lua_pop(L, 1);
            return -1;
        }
        count++;
        if (key > largest) largest = (long)key;
    }
    return count == largest ? count : -1;
}

static void ekv_mp_encode(lua_State *L, ekv_mp_buffer *buffer, int index, int level);

static void ekv_mp_table(lua_State *L, ekv_mp_buffer *buffer, int index, int level) {
    if (!lua_checkstack(L, 4)) {
        ekv_mp_byte(buffer, 0xC0);
        return;
    }
    long length = ekv_mp_array_length(L, index);
    if (length >= 0) {
        ekv_mp_length(buffer, (size_t)length, 0x90, 16, 0, 0xDC, 0xDD);
        for (long i = 1; i <= length; i++) {
            lua_rawgeti(L, index, (int)i);
            ekv_mp_encode(L, buffer, lua_gettop(L), level + 1);
            lua_pop(L, 1);
        }
        return;
    }
    size_t pairs = 0;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        pairs++;
    }
    ekv_mp_length(buffer, pairs, 0x80, 16, 0, 0xDE, 0xDF);
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        int value = lua_gettop(L);
        ekv_mp_encode(L, buffer, value - 1, level + 1);
        ekv_mp_encode(L, buffer, value, level + 1);
        lua_pop(L, 1);
    }
}

static void ekv_mp_encode(lua_State *L, ekv_mp_buffer *buffer, int index, int level) {
    switch (lua_type(L, index)) {
    case LUA_TSTRING: {
        size_t length;
        const char *text = lua_tolstring(L, index, &length);
        ekv_mp_length(buffer, length, 0xA0, 32, 0xD9, 0xDA, 0xDB);
        ekv_mp_append(buffer, text, length);
        break;
    }
    case LUA_TBOOLEAN: ekv_mp_byte(buffer, lua_toboolean(L, index) ? 0xC3 : 0xC2); break;
    case LUA_TNUMBER: ekv_mp_number(buffer, lua_tonumber(L, index)); break;
    case LUA_TTABLE:
        if (level >= EKV_MSGPACK_MAX_NESTING) {
            ekv_mp_byte(buffer, 0xC0);
        } else {
            ekv_mp_table(L, buffer, index, level);
        }
        break;
    default: ekv_mp_byte(buffer, 0xC0); break;
    }
}

static int ekv_mp_pack(lua_State *L) {
    int count = lua_gettop(L);
    if (count == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    ekv_mp_buffer buffer = {NULL, 0, 0, 0};
    for (int i = 1; i <= count; i++) ekv_mp_encode(L, &buffer, i, 0);
    if (buffer.failed) {
        free(buffer.bytes);
        return luaL_error(L, "not enough memory");
    }
    lua_pushlstring(L, (const char *)buffer.bytes, buffer.length);
    free(buffer.bytes);
    return 1;
}

// ---- decoding ---------------------------------------------------------------------------------------------

typedef struct {
    const unsigned char *data;
    size_t left;
    int error; // 1: input ends early, 2: bad format
} ekv_mp_cursor;

static int ekv_mp_need(ekv_mp_cursor *cursor, size_t bytes) {
    if (cursor->left < bytes) {
        cursor->error = 1;
        return 0;
    }
    return 1;
}

static uint64_t ekv_mp_read(ekv_mp_cursor *cursor, size_t bytes) {
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; i++) value = (value << 8) | cursor->data[i];
    cursor->data += bytes;
    cursor->left -= bytes;
    return value;
}

static void ekv_mp_decode(lua_State *L, ekv_mp_cursor *cursor);

static void ekv_mp_decode_string(lua_State *L, ekv_mp_cursor *cursor, size_t length) {
    if (!ekv_mp_need(cursor, length)) return;
    lua_pushlstring(L, (const char *)cursor->data, length);
    cursor->data += length;
    cursor->left -= length;
}

static void ekv_mp_decode_array(lua_State *L, ekv_mp_cursor *cursor, size_t length) {
    luaL_checkstack(L, 2, "too deeply nested data");
    lua_newtable(L);
    for (size_t i = 1; i <= length && cursor->error == 0; i++) {
        ekv_mp_decode(L, cursor);
        if (cursor->error != 0) return;
        lua_rawseti(L, -2, (int)i);
    }
}

static void ekv_mp_decode_map(lua_State *L, ekv_mp_cursor *cursor, size_t length) {
    luaL_checkstack(L, 3, "too deeply nested data");
    lua_newtable(L);
    for (size_t i = 0; i < length && cursor->error == 0; i++) {
        ekv_mp_decode(L, cursor);
        if (cursor->error != 0) return;
        ekv_mp_decode(L, cursor);
        if (cursor->error != 0) return;
        if (lua_isnil(L, -2)) {
            lua_pop(L, 2); // a nil key cannot be stored
        } else {
            lua_rawset(L, -3);
        }
    }
}

static void ekv_mp_decode(lua_State *L, ekv_mp_cursor *cursor) {
    if (!ekv_mp_need(cursor, 1)) return;
    unsigned char tag = (unsigned char)ekv_mp_read(cursor, 1);
    size_t width = 0;
    if (tag <= 0x7F) { lua_pushnumber(L, tag); return; }
    if (tag >= 0xE0) { lua_pushnumber(L, (int8_t)tag); return; }
    if ((tag & 0xE0) == 0xA0) { ekv_mp_decode_string(L, cursor, tag & 0x1F); return; }
    if ((tag & 0xF0) == 0x90) { ekv_mp_decode_array(L, cursor, tag & 0x0F); return; }
    if ((tag & 0xF0) == 0x80) { ekv_mp_decode_map(L, cursor, tag & 0x0F); return; }
    switch (tag) {
    case 0xC0: lua_pushnil(L); return;
    case 0xC2: lua_pushboolean(L, 0); return;
    case 0xC3: lua_pushboolean(L, 1); return;
    case 0xCC: case 0xCD: case 0xCE: case 0xCF:
        width = (size_t)1 << (tag - 0xCC);
        if (ekv_mp_need(cursor, width)) lua_pushnumber(L, (lua_Number)ekv_mp_read(cursor, width));
        return;
    case 0xD0: case 0xD1: case 0xD2: case 0xD3: {
        width = (size_t)1 << (tag - 0xD0);
        if (!ekv_mp_need(cursor, width)) return;
        uint64_t raw = ekv_mp_read(cursor, width);
        int64_t value = width == 8 ? (int64_t)raw
                                   : (int64_t)(raw ^ ((uint64_t)1 << (width * 8 - 1))) - ((int64_t)1 << (width * 8 - 1));
        lua_pushnumber(L, (lua_Number)value);
        return;
    }
    case 0xCA: {
        if (!ekv_mp_need(cursor, 4)) return;
        uint32_t bits = (uint32_t)ekv_mp_read(cursor, 4);
        float value;
        memcpy(&value, &bits, sizeof(value));
        lua_pushnumber(L, value);
        return;
    }
    case 0xCB: {
        if (!ekv_mp_need(cursor, 8)) return;
        uint64_t bits = ekv_mp_read(cursor, 8);
        double value;
        memcpy(&value, &bits, sizeof(value));
        lua_pushnumber(L, value);
        return;
    }
    case 0xD9: case 0xC4: width = 1; break;
    case 0xDA: case 0xC5: width = 2; break;
    case 0xDB: case 0xC6: width = 4; break;
    case 0xDC: if (ekv_mp_need(cursor, 2)) ekv_mp_decode_array(L, cursor, ekv_mp_read(cursor, 2)); return;
    case 0xDD: if (ekv_mp_need(cursor, 4)) ekv_mp_decode_array(L, cursor, ekv_mp_read(cursor, 4)); return;
    case 0xDE: if (ekv_mp_need(cursor, 2)) ekv_mp_decode_map(L, cursor, ekv_mp_read(cursor, 2)); return;
    case 0xDF: if (ekv_mp_need(cursor, 4)) ekv_mp_decode_map(L, cursor, ekv_mp_read(cursor, 4)); return;
    default: cursor->error = 2; return;
    }
    if (ekv_mp_need(cursor, width)) ekv_mp_decode_string(L, cursor, ekv_mp_read(cursor, width));
}

/// Decodes up to `limit` values (0: all) from `offset`; with a limit, the next offset (-1 at the end) comes
/// first. The string must be the only value on the stack.
static int ekv_mp_unpack_full(lua_State *L, int limit, int offset) {
    size_t length;
    const char *data = luaL_checklstring(L, 1, &length);
    int all = limit == 0;
    if (offset < 0 || limit < 0) {
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset, (int)length);
    }
    if ((size_t)offset > length) return luaL_error(L, "Start offset %d greater than input length %d.", offset, (int)length);
    ekv_mp_cursor cursor = {(const unsigned char *)data + offset, length - (size_t)offset, 0};
    int count = 0;
    while (cursor.left > 0 && (all || count < limit)) {
        luaL_checkstack(L, 2, "too many values to unpack");
        ekv_mp_decode(L, &cursor);
        if (cursor.error == 1) return luaL_error(L, "Missing bytes in input.");
        if (cursor.error == 2) return luaL_error(L, "Bad data format in input.");
        count++;
    }
    if (!all) {
        lua_pushinteger(L, cursor.left == 0 ? -1 : (lua_Integer)(length - cursor.left));
        lua_insert(L, 2);
        count++;
    }
    return count;
}

static int ekv_mp_unpack(lua_State *L) {
    lua_settop(L, 1);
    return ekv_mp_unpack_full(L, 0, 0);
}

static int ekv_mp_unpack_one(lua_State *L) {
    int offset = (int)luaL_optinteger(L, 2, 0);
    lua_settop(L, 1);
    return ekv_mp_unpack_full(L, 1, offset);
}

static int ekv_mp_unpack_limit(lua_State *L) {
    int limit = (int)luaL_checkinteger(L, 2);
    int offset = (int)luaL_optinteger(L, 3, 0);
    lua_settop(L, 1);
    return ekv_mp_unpack_full(L, limit, offset);
}

int ekv_open_cmsgpack(lua_State *L) {
    static const luaL_Reg functions[] = {{"pack", ekv_mp_pack}, {"unpack", ekv_mp_unpack},
                                         {"unpack_one", ekv_mp_unpack_one}, {"unpack_limit", ekv_mp_unpack_limit},
                                         {NULL, NULL}};
    luaL_register(L, "cmsgpack", functions);
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pop(L, 1);
    return 0;
}
