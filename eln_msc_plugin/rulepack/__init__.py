"""The built-in MSC rule pack: each module is an ordinary plugin that registers its rules."""

NAME = "msc-default"
VERSION = "1.0.0"
