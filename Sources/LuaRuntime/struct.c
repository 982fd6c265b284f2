// `struct.pack(fmt, ...)`, `struct.unpack(fmt, data [, init])`, `struct.size(fmt)`: binary packing as Redis's
// scripts have it. Format: `<` little-endian, `>` big-endian, `=` native, `!n` maximum alignment n (a power of
// two, 8 without n), spaces ignored; `b B` 1-byte, `h H` 2-byte, `l L j J T` 8-byte, `i I` [n] n-byte (4
// without n, at most 32) signed / unsigned integers; `f` float, `d` double; `x` a zero byte; `s` a
// zero-terminated string; `c` [n] n characters (`c0`: the whole string when packing, the length given by the
// previous value when unpacking).
#include "LuaRuntimeLibraries.h"

#include <ctype.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <string.h>

#define EKV_STRUCT_MAX_INT 32
#define EKV_STRUCT_MAX_ALIGN 8

typedef struct {
    int little;
    int align;
} ekv_format_state;

static int ekv_is_little_endian(void) {
    const uint16_t probe = 1;
    return *(const uint8_t *)&probe == 1;
}

static size_t ekv_read_number(const char **fmt, size_t fallback) {
    if (!isdigit((unsigned char)**fmt)) return fallback;
    size_t value = 0;
    while (isdigit((unsigned char)**fmt)) value = value * 10 + (size_t)(*(*fmt)++ - '0');
    return value;
}

/// The size of option `option` (reading its count from `fmt`); 0 for options without a size.
static size_t ekv_option_size(lua_State *L, char option, const char **fmt) {
    switch (option) {
    case 'b': case 'B': case 'x': return 1;
    case 'h': case 'H': return 2;
    case 'l': case 'L': case 'j': case 'J': case 'T': return 8;
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'c': return ekv_read_number(fmt, 1);
    case 'i': case 'I': {
        size_t size = ekv_read_number(fmt, sizeof(int));
        if (size > EKV_STRUCT_MAX_INT) {
            luaL_error(L, "integral size %d is larger than limit of %d", (int)size, EKV_STRUCT_MAX_INT);
        }
        return size;
    }
    default: return 0;
    }
}

static size_t ekv_padding(size_t position, const ekv_format_state *state, char option, size_t size) {
    if (size == 0 || option == 'c') return 0;
    if (size > (size_t)state->align) size = (size_t)state->align;
    return (size - (position & (size - 1))) & (size - 1);
}

/// Applies a control option; returns 0 when `option` is not one.
static int ekv_control(lua_State *L, char option, const char **fmt, ekv_format_state *state) {
    switch (option) {
    case ' ': return 1;
    case '>': state->little = 0; return 1;
    case '<': state->little = 1; return 1;
    case '=': state->little = ekv_is_little_endian(); return 1;
    case '!': {
        size_t align = ekv_read_number(fmt, EKV_STRUCT_MAX_ALIGN);
        if (align == 0 || (align & (align - 1)) != 0) luaL_error(L, "alignment %d is not a power of 2", (int)align);
        state->align = (int)align;
        return 1;
    }
    default: return 0;
    }
}

static int ekv_invalid_option(lua_State *L, char option) {
    return luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", option));
}

static int ekv_is_integer_option(char option) { return strchr("bBhHlLjJTiI", option) != NULL; }

static void ekv_put_bytes(luaL_Buffer *buffer, const unsigned char *bytes, size_t size, int little) {
    int native = ekv_is_little_endian();
    for (size_t i = 0; i < size; i++) luaL_addchar(buffer, (char)bytes[little == native ? i : size - 1 - i]);
}

static void ekv_put_integer(luaL_Buffer *buffer, lua_Number number, int little, size_t size) {
    uint64_t value = number < 0 ? (uint64_t)(int64_t)number : (uint64_t)number;
    int negative = number < 0;
    unsigned char bytes[EKV_STRUCT_MAX_INT];
    for (size_t i = 0; i < size; i++) {
        bytes[little ? i : size - 1 - i] = i < 8 ? (unsigned char)(value >> (8 * i)) : (negative ? 0xFF : 0x00);
    }
    for (size_t i = 0; i < size; i++) luaL_addchar(buffer, (char)bytes[i]);
}

static lua_Number ekv_get_integer(const unsigned char *bytes, int little, int is_signed, size_t size) {
    uint64_t value = 0;
    for (size_t i = 0; i < size; i++) {
        unsigned char byte = bytes[little ? size - 1 - i : i];
        value = (value << 8) | byte;
    }
    if (is_signed && size < 8 && size > 0) {
        uint64_t sign = (uint64_t)1 << (size * 8 - 1);
        if (value & sign) value |= ~((sign << 1) - 1);
    }
    return is_signed ? (lua_Number)(int64_t)value : (lua_Number)value;
}

static int ekv_struct_pack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    ekv_format_state state = {ekv_is_little_endian(), 1};
    luaL_Buffer buffer;
    int argument = 2;
    size_t total = 0;
    luaL_buffinit(L, &buffer);
    while (*fmt != '\0') {
        char option = *fmt++;
        if (ekv_control(L, option, &fmt, &state)) continue;
        size_t size = ekv_option_size(L, option, &fmt);
        size_t padding = ekv_padding(total, &state, option, size);
        total += padding;
        while (padding-- > 0) luaL_addchar(&buffer, '\0');
        if (ekv_is_integer_option(option)) {
            ekv_put_integer(&buffer, luaL_checknumber(L, argument++), state.little, size);
        } else if (option == 'x') {
            luaL_addchar(&buffer, '\0');
        } else if (option == 'f') {
            float value = (float)luaL_checknumber(L, argument++);
            ekv_put_bytes(&buffer, (const unsigned char *)&value, sizeof(value), state.little);
        } else if (option == 'd') {
            double value = (double)luaL_checknumber(L, argument++);
            ekv_put_bytes(&buffer, (const unsigned char *)&value, sizeof(value), state.little);
        } else if (option == 'c' || option == 's') {
            size_t length;
            const char *text = luaL_checklstring(L, argument, &length);
            if (size == 0) size = length;
            luaL_argcheck(L, length >= size, argument, "string too short");
            luaL_addlstring(&buffer, text, size);
            if (option == 's') {
                luaL_addchar(&buffer, '\0');
                size++;
            }
            argument++;
        } else {
            return ekv_invalid_option(L, option);
        }
        total += size;
    }
    luaL_pushresult(&buffer);
    return 1;
}

static int ekv_struct_unpack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    size_t length;
    const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 2, &length);
    lua_Integer start = luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, start > 0, 3, "offset must be 1 or greater");
    size_t position = (size_t)start - 1;
    ekv_format_state state = {ekv_is_little_endian(), 1};
    int results = 0;
    while (*fmt != '\0') {
        char option = *fmt++;
        if (ekv_control(L, option, &fmt, &state)) continue;
        size_t size = ekv_option_size(L, option, &fmt);
        position += ekv_padding(position, &state, option, size);
        luaL_argcheck(L, position <= length && size <= length - position, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        if (ekv_is_integer_option(option)) {
            lua_pushnumber(L, ekv_get_integer(data + position, state.little, islower((unsigned char)option), size));
            results++;
        } else if (option == 'x') {
        } else if (option == 'f' || option == 'd') {
            unsigned char bytes[sizeof(double)];
            int native = ekv_is_little_endian();
            for (size_t i = 0; i < size; i++) bytes[i] = data[position + (state.little == native ? i : size - 1 - i)];
            if (option == 'f') {
                float value;
                memcpy(&value, bytes, sizeof(value));
                lua_pushnumber(L, value);
            } else {
                double value;
                memcpy(&value, bytes, sizeof(value));
                lua_pushnumber(L, value);
            }
            results++;
        } else if (option == 'c') {
            if (size == 0) {
                if (results == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)lua_tonumber(L, -1);
                lua_pop(L, 1);
                results--;
                luaL_argcheck(L, size <= length - position, 2, "data string too short");
            }
            lua_pushlstring(L, (const char *)data + position, size);
            results++;
        } else if (option == 's') {
            const unsigned char *end = memchr(data + position, '\0', length - position);
            if (end == NULL) luaL_error(L, "unfinished string in data");
            size = (size_t)(end - (data + position)) + 1;
            lua_pushlstring(L, (const char *)data + position, size - 1);
            results++;
        } else {
            return ekv_invalid_option(L, option);
        }
        position += size;
    }
    lua_pushinteger(L, (lua_Integer)position + 1);
    return results + 1;
}

static int ekv_struct_size(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    ekv_format_state state = {ekv_is_little_endian(), 1};
    size_t position = 0;
    while (*fmt != '\0') {
        char option = *fmt++;
        if (ekv_control(L, option, &fmt, &state)) continue;
        size_t size = ekv_option_size(L, option, &fmt);
        position += ekv_padding(position, &state, option, size);
        if (option == 's') luaL_argerror(L, 1, "option 's' has no fixed size");
        if (option == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (size == 0) return ekv_invalid_option(L, option);
        position += size;
    }
    lua_pushinteger(L, (lua_Integer)position);
    return 1;
}

int ekv_open_struct(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"pack", ekv_struct_pack}, {"unpack", ekv_struct_unpack}, {"size", ekv_struct_size}, {NULL, NULL}};
    luaL_register(L, "struct", functions);
    lua_pop(L, 1);
    return 0;
}
