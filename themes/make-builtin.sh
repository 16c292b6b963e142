#!/usr/bin/env bash
# Regenerates Sources/InftopTUI/Theme/BuiltinThemes.swift from the shipped themes (a test
# fails when they differ). Run from the repository root: bash themes/make-builtin.sh
set -euo pipefail
out=Sources/InftopTUI/Theme/BuiltinThemes.swift
names=(default light sixteen mono)
{
  echo '// Generated from themes/*.theme by themes/make-builtin.sh (a test checks they stay identical):'
  echo '// the shipped themes are compiled in so `inftop` has them wherever it is installed.'
  echo ''
  echo '/// The themes shipped in `themes/`, by name, in `T` order.'
  echo 'public enum BuiltinThemes {'
  echo '    public static let names = ["default", "light", "sixteen", "mono"]'
  echo ''
  echo '    /// The file text of a shipped theme (without its final newline).'
  echo '    public static func text(_ name: String) -> String? {'
  echo '        switch name {'
  for n in "${names[@]}"; do echo "        case \"$n\": ${n}Text"; done
  echo '        default: nil'
  echo '        }'
  echo '    }'
  for n in "${names[@]}"; do
    echo ''
    echo "    static let ${n}Text = #\"\"\""
    cat "themes/$n.theme"
    echo '"""#'
  done
  echo '}'
} > "$out.tmp"
mv "$out.tmp" "$out"
