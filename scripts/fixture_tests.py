#!/usr/bin/env python3
"""Appends [[test]] cases to a rule file from fixture folders (maintainer helper).

usage: fixture_tests.py RULE_FILE NAME EXPECT DIR [--severity S] [--stores 1,2] [--regions ..] [--nodes ..]
The files under DIR become the test's inputs (paths relative to DIR)."""
import os, sys

def main():
    a = sys.argv[1:]
    rule, name, expect, d = a[:4]
    opts = dict(zip(a[4::2], a[5::2]))
    out = ['', '[[test]]', f'name = "{name}"', f'expect = "{expect}"']
    if '--severity' in opts:
        out.append(f'severity = "{opts["--severity"]}"')
    for k in ('stores', 'regions'):
        if f'--{k}' in opts:
            out.append(f'{k} = [{opts["--" + k]}]')
    if '--nodes' in opts:
        out.append('nodes = [' + ', '.join(f'"{n}"' for n in opts['--nodes'].split(',')) + ']')
    for root, _, files in sorted(os.walk(d)):
        for f in sorted(files):
            p = os.path.join(root, f)
            text = open(p, encoding='utf-8').read()
            if "'''" in text:
                sys.exit(f"{p}: contains ''' and cannot be inlined")
            rel = os.path.relpath(p, d)
            out += ['', '[[test.input]]', f'path = "{rel}"', "text = '''", text.rstrip('\n') , "'''"]
    with open(rule, 'a') as fh:
        fh.write('\n'.join(out) + '\n')

main()
