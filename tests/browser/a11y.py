"""axe-core in Chromium (vendored, see vendor/README) and the checks the page tests share.

How axe gets into a page: the portal sends `Content-Security-Policy: script-src 'self'`, so
`page.add_script_tag(content=...)` (and `path=...`, which Playwright turns into inline content)
is refused by the page. The common way out is a context with `bypass_csp=True`, but that
switches the whole policy off, `style-src 'self'` included: a page that relies on an inline
style the real browser would drop could then pass axe while users see something else. Instead
the axe context routes one same-origin URL, `<portal>/__axe__/axe.min.js`, to the vendored file
(`serve_axe`), and the script is added by that URL, which `script-src 'self'` allows. The
policy stays exactly what users get, in frames too (the route covers every frame of the
context). The URL exists only inside the test browser; the server never sees it.
"""
from __future__ import annotations

from pathlib import Path

AXE_FILE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_PATH = "/__axe__/axe.min.js"

# WCAG 2.2 AA, the bar. Choosing rules by these tags alone leaves axe's
# "best-practice" rules (region, landmark-one-main, heading-order, ...) off, as asked.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


def serve_axe(context, origin: str) -> None:
    """Answer `<origin>/__axe__/axe.min.js` from the vendored file in this browser context."""
    body = AXE_FILE.read_bytes()
    context.route(f"{origin}{AXE_PATH}", lambda route: route.fulfill(
        status=200, body=body, headers={"Content-Type": "application/javascript; charset=utf-8"}))


def _settle(target) -> None:
    """Wait until finite CSS animations and transitions have ended: a dialog or toast fading in
    would otherwise be measured half transparent."""
    target.wait_for_function("""() => document.getAnimations().every(a =>
        a.playState !== 'running' || a.effect == null || a.effect.getTiming().iterations === Infinity)""",
                             timeout=5_000)


def axe_violations(page, context=None) -> list[dict]:
    """axe-core's violations on `page` (a Page or a Frame: inside an iframe, pass the Frame).

    `context` is axe's context (a selector or {include, exclude}); the whole document if None.
    The context must have been given `serve_axe` for the page's origin. Each violation is
    {id, impact, help, helpUrl, nodes: [{target, summary, html}]}."""
    _settle(page)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        origin = page.evaluate("location.origin")
        page.add_script_tag(url=f"{origin}{AXE_PATH}")
    return page.evaluate("""async ([context, options]) => {
        const result = await axe.run(context || document, options);
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary, html: n.html})),
        }));
    }""", [context, AXE_OPTIONS])


def describe_violations(where: str, violations: list[dict]) -> str:
    """A report the person fixing the page can act on: rule, impact, every failing node."""
    lines = [f"axe-core: {len(violations)} WCAG 2.2 AA violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} node(s)] {v['helpUrl']}")
        for node in v["nodes"]:
            target = " >>> ".join(" ".join(t) if isinstance(t, list) else t for t in node["target"])
            lines.append(f"    at {target}")
            lines.append(f"       {node['html'][:160]}")
            for line in (node["summary"] or "").splitlines():
                lines.append(f"       | {line.strip()}")
    return "\n".join(lines)


# --- focus ---------------------------------------------------------------------------------

FOCUS_STYLE_JS = """() => {
    const e = document.activeElement;
    if (!e || e === document.body || e === document.documentElement) return null;
    const s = getComputedStyle(e);
    const transparent = c => c === 'transparent' || /rgba\\([^)]*,\\s*0\\)$/.test(c);
    const label = (e.getAttribute('aria-label') || e.innerText || e.value || '').trim().slice(0, 60);
    return {
        tag: e.tagName.toLowerCase(), id: e.id, label: label,
        outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
        boxShadow: s.boxShadow,
        visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && !transparent(s.outlineColor))
                 || (s.boxShadow && s.boxShadow !== 'none'),
    };
}"""


def focus_problem(page) -> str | None:
    """None if the focused element shows a focus indicator (an outline that is drawn, or a box
    shadow), else what is focused and what its style says. Body focused counts as a problem."""
    info = page.evaluate(FOCUS_STYLE_JS)
    if info is None:
        return "focus is on <body> (nothing focused)"
    if info["visible"]:
        return None
    return (f"<{info['tag']}{' id=' + info['id'] if info['id'] else ''}> “{info['label']}” has no visible "
            f"focus indicator (outline: {info['outline']}; box-shadow: {info['boxShadow']})")


# --- sideways scrolling -----------------------------------------------------------------------

OVERFLOW_JS = """() => {
    const vw = window.innerWidth;
    const root = document.documentElement;
    // An element inside a scroll container of its own (a wide table in an overflow-x: auto
    // wrapper) does not widen the page; html and body do not count as such containers: an
    // element cut off by `overflow-x: hidden` on them is content a person cannot reach.
    // A scroll container clips only what it contains as a containing block: an absolutely
    // positioned element (a visually hidden label) escapes every scroll container below its
    // positioned ancestor, and a fixed one escapes them all.
    const contained = el => {
        const position = getComputedStyle(el).position;
        const start = position === 'fixed' ? null : position === 'absolute' ? el.offsetParent : el.parentElement;
        for (let a = start; a && a !== document.body && a !== root; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== 'visible') return true;
        }
        return false;
    };
    const offenders = [];
    let index = 0;
    for (const el of document.body.querySelectorAll('*')) {
        index++;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        const right = r.right + window.scrollX;
        if (right <= vw + 0.5) continue;
        if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) continue;
        if (contained(el)) continue;
        offenders.push({
            tag: el.tagName.toLowerCase(), id: el.id || '', cls: el.getAttribute('class') || '',
            right: Math.round(right), width: Math.round(r.width), index: index,
            position: getComputedStyle(el).position,
            text: (el.innerText || el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50),
        });
    }
    offenders.sort((a, b) => b.right - a.right || a.index - b.index);
    const b = getComputedStyle(document.body), h = getComputedStyle(root);
    return {scrollWidth: root.scrollWidth, innerWidth: vw, offenders: offenders.slice(0, 6),
            clipping: [h.overflowX, b.overflowX]};
}"""


def sideways_problem(target, where: str) -> str | None:
    """None if the document fits the viewport's width, else which elements stick out."""
    found = target.evaluate(OVERFLOW_JS)
    scrolls = found["scrollWidth"] > found["innerWidth"]
    if not scrolls and not found["offenders"]:
        return None
    if scrolls:
        head = (f"{where} scrolls sideways: scrollWidth {found['scrollWidth']} px > "
                f"innerWidth {found['innerWidth']} px.")
    else:
        head = (f"{where} does not scroll, but content is cut off at the right edge (overflow-x on "
                f"html/body: {found['clipping'][0]}/{found['clipping'][1]}): a person cannot reach it.")
    lines = [head]
    if found["offenders"]:
        lines.append("Elements whose right edge is beyond the viewport (widest first):")
        for o in found["offenders"]:
            ident = o["tag"] + (f"#{o['id']}" if o["id"] else "") + (f" class=\"{o['cls']}\"" if o["cls"] else "")
            lines.append(f"  <{ident}> right edge {o['right']} px, width {o['width']} px,"
                         f" position {o['position']}: “{o['text']}”")
    else:
        lines.append("No single element sticks out (margins or padding widen the page).")
    return "\n".join(lines)
