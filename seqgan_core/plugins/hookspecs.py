"""The hooks a seqgan plugin can implement. There is one, and it has no body on purpose."""

from collections.abc import Callable

import pluggy

from seqgan_core.rules.rule import Rule

hookspec = pluggy.HookspecMarker("seqgan")
hookimpl = pluggy.HookimplMarker("seqgan")


@hookspec
def register_rules(register: Callable[[Rule], None]) -> None:
    """Register the rules this plugin provides.

    :param register: call ``register(Rule(...))`` once per rule. It validates the rule and raises
        ``RuleError`` naming your plugin if the rule is broken or its name is taken.
    :returns: nothing; return values are ignored.
    """
