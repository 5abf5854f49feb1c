"""The services form a straight line of dependencies: no module imports another that imports
it back (directly or through others), and `access` sits at the bottom."""
import ast
import pathlib

SERVICES = pathlib.Path(__file__).resolve().parents[2] / "app" / "services"


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in SERVICES.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        graph[path.stem] = deps
    return graph


def test_no_service_imports_itself_back():
    graph = _graph()

    def reaches(start, goal, seen):
        for dep in graph.get(start, ()):
            if dep == goal:
                return True
            if dep not in seen:
                seen.add(dep)
                if reaches(dep, goal, seen):
                    return True
        return False

    cycles = sorted(name for name in graph if reaches(name, name, set()))
    assert cycles == []


def test_access_imports_no_other_service_but_ids():
    assert _graph()["access"] <= {"ids"}
