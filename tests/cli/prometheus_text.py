#!/usr/bin/env python3
"""Checks a Prometheus text exposition (version 0.0.4) read from stdin and
answers questions about it, as a scraper would see it.

  prometheus_text.py check          exit 1 naming the first broken line
  prometheus_text.py sum NAME [k=v ...]   sum of the samples of NAME whose
                                    labels include every k=v (0 if none)
  prometheus_text.py max NAME [k=v ...]   the largest such sample
"""
import math
import re
import sys

SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? '
    r'(-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    types, samples = {}, []
    for number, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith('# HELP '):
            continue
        if line.startswith('# TYPE '):
            _, _, name, kind = line.split(' ', 3)
            if kind not in ('counter', 'gauge', 'histogram', 'summary', 'untyped'):
                raise ValueError(f'line {number}: unknown type {kind}')
            if name in types:
                raise ValueError(f'line {number}: {name} typed twice')
            types[name] = kind
            continue
        if line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f'line {number}: not a sample: {line!r}')
        labels = dict(LABEL.findall(m.group(3) or ''))
        samples.append((m.group(1), labels, float(m.group(4))))
    return types, samples


def family_of(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) == 'histogram':
            return name[:-len(suffix)]
    return name


def check(types, samples):
    buckets = {}
    counts = {}
    for name, labels, value in samples:
        family = family_of(name, types)
        if family not in types:
            raise ValueError(f'{name}: sample without a # TYPE line')
        if types[family] == 'counter' and not family.endswith('_total'):
            raise ValueError(f'{family}: a counter name must end in _total')
        if types[family] == 'counter' and (value < 0 or math.isnan(value)):
            raise ValueError(f'{name}: negative counter')
        if types[family] == 'histogram':
            key = (family, tuple(sorted((k, v) for k, v in labels.items() if k != 'le')))
            if name.endswith('_bucket'):
                buckets.setdefault(key, []).append((float(labels['le']), value))
            elif name.endswith('_count'):
                counts[key] = value
    for key, rows in buckets.items():
        values = [v for _, v in rows]
        if values != sorted(values):
            raise ValueError(f'{key}: buckets not cumulative')
        if rows[-1][0] != math.inf or rows[-1][1] != counts.get(key):
            raise ValueError(f'{key}: +Inf bucket differs from _count')


def main():
    types, samples = parse(sys.stdin.read())
    if sys.argv[1] == 'check':
        check(types, samples)
        return
    name = sys.argv[2]
    want = dict(arg.split('=', 1) for arg in sys.argv[3:])
    picked = [v for n, labels, v in samples
              if n == name and all(labels.get(k) == v for k, v in want.items())]
    value = sum(picked) if sys.argv[1] == 'sum' else max(picked, default=0)
    # Whole numbers print whole, for the shell's integer comparisons.
    print(int(value) if float(value).is_integer() else value)


if __name__ == '__main__':
    try:
        main()
    except ValueError as e:
        print(f'bad exposition: {e}', file=sys.stderr)
        sys.exit(1)
