#!/usr/bin/env python3
"""DecodeAlign from Python through ctypes: the same flow as generate.c.

Loads the built-in arith bundle, generates with greedy (streamed) and best-of-4 (delivered once at the end), checks
that bad options fail with a status and a message, frees everything, and exits 0 only when every check held.

    python3 native/samples/generate.py [path/to/libdecodealign.so]
"""
import ctypes
import json
import os
import sys

DA_OK, DA_ERR_INVALID_ARGUMENT, DA_ERR_JSON, DA_ERR_OPTION, DA_ERR_UNKNOWN_STRATEGY, DA_ERR_MODEL = 0, 1, 2, 3, 4, 5

PROMPT = "Q: Mia has 12 apples. She buys 7 more apples. Then she loses 4 apples. How many apples does Mia have now?\nA:"

# int (*)(const char* text, size_t length, void* user): c_void_p rather than c_char_p so the length, not a NUL, bounds the text.
TOKEN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)


def load_library(path):
    lib = ctypes.CDLL(path)
    p, pp = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
    signatures = {
        "da_bundle_load": [ctypes.c_char_p, pp],
        "da_bundle_free": [p],
        "da_generate": [p, ctypes.c_char_p, ctypes.c_char_p, TOKEN_CALLBACK, p, pp],
        "da_cancel": [p],
        "da_result_text": [p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)],
        "da_result_token_count": [p, ctypes.POINTER(ctypes.c_size_t)],
        "da_result_finish_reason": [p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_char_p)],
        "da_result_reward": [p, ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_int)],
        "da_result_free": [p],
    }
    for name, argtypes in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, ctypes.c_int
    lib.da_last_error.argtypes, lib.da_last_error.restype = [], ctypes.c_char_p
    return lib


class Failures:
    count = 0

    @classmethod
    def check(cls, ok, message):
        if not ok:
            print(f"FAILED: {message}", file=sys.stderr)
            cls.count += 1


def last_error(lib):
    return lib.da_last_error().decode("utf-8", "replace")


def generate(lib, bundle, options):
    print(f"\n== {json.dumps(options)}")
    streamed = []

    def on_text(text, length, _user):
        chunk = ctypes.string_at(text, length).decode("utf-8")
        streamed.append(chunk)
        print(chunk, end="", flush=True)
        return 0

    callback = TOKEN_CALLBACK(on_text)  # kept referenced until da_generate returns
    result = ctypes.c_void_p()
    rc = lib.da_generate(bundle, PROMPT.encode(), json.dumps(options).encode(), callback, None, ctypes.byref(result))
    print()
    Failures.check(rc == DA_OK, f"da_generate returned {rc}: {last_error(lib)}")
    if rc != DA_OK:
        return
    text, length, tokens = ctypes.c_char_p(), ctypes.c_size_t(), ctypes.c_size_t()
    reason, reason_name = ctypes.c_int(), ctypes.c_char_p()
    reward, has_reward = ctypes.c_double(), ctypes.c_int()
    lib.da_result_text(result, ctypes.byref(text), ctypes.byref(length))
    lib.da_result_token_count(result, ctypes.byref(tokens))
    lib.da_result_finish_reason(result, ctypes.byref(reason), ctypes.byref(reason_name))
    lib.da_result_reward(result, ctypes.byref(reward), ctypes.byref(has_reward))
    value = ctypes.string_at(text, length.value).decode("utf-8")
    print(f"result: {value!r}")
    print(f"tokens: {tokens.value}, finish: {reason_name.value.decode()}, reward: {f'{reward.value:.4f}' if has_reward.value else 'none'}")
    print(f"callback calls: {len(streamed)}")
    Failures.check(tokens.value > 0 and value, "empty result")
    Failures.check("".join(streamed) == value, f"streamed text {''.join(streamed)!r} differs from the result's")
    Failures.check(lib.da_result_free(result) == DA_OK, "da_result_free failed")


def expect_error(lib, bundle, options, expected):
    result = ctypes.c_void_p()
    rc = lib.da_generate(bundle, PROMPT.encode(), options.encode(), TOKEN_CALLBACK(), None, ctypes.byref(result))
    message = last_error(lib)
    print(f"options {options:<44} -> status {rc}: {message}")
    Failures.check(rc == expected, f"expected status {expected} for {options}, got {rc}")
    Failures.check(message != "", f"no error message for {options}")
    Failures.check(not result.value, f"a result was returned for {options}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "build", "libdecodealign.so")
    lib = load_library(path)
    bundle = ctypes.c_void_p()
    rc = lib.da_bundle_load(b"{}", ctypes.byref(bundle))
    if rc != DA_OK:
        print(f"da_bundle_load failed ({rc}): {last_error(lib)}", file=sys.stderr)
        return 1
    print(f"prompt: {PROMPT}")

    generate(lib, bundle, {"strategy": "greedy", "max_new_tokens": 64})
    generate(lib, bundle, {"strategy": "bon", "n": 4, "seed": 7, "max_new_tokens": 64, "temperature": 1.0})

    print("\n== errors")
    expect_error(lib, bundle, '{"strategy": "greedy", ', DA_ERR_JSON)
    expect_error(lib, bundle, '{"strategy": "no-such"}', DA_ERR_UNKNOWN_STRATEGY)
    expect_error(lib, bundle, '{"strategy": "greedy", "n": 4}', DA_ERR_OPTION)
    expect_error(lib, bundle, '{"strategy": "bon", "beta": [1]}', DA_ERR_OPTION)
    rc = lib.da_generate(None, PROMPT.encode(), None, TOKEN_CALLBACK(), None, ctypes.byref(ctypes.c_void_p()))
    print(f"NULL bundle -> status {rc}: {last_error(lib)}")
    Failures.check(rc == DA_ERR_INVALID_ARGUMENT, f"expected DA_ERR_INVALID_ARGUMENT for a NULL bundle, got {rc}")

    Failures.check(lib.da_bundle_free(bundle) == DA_OK, f"da_bundle_free: {last_error(lib)}")
    if Failures.count:
        print(f"generate.py: {Failures.count} check(s) failed", file=sys.stderr)
        return 1
    print("\ngenerate.py: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
