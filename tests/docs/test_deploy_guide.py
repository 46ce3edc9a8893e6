"""The README's deploy guide names every parameter of template.yaml, so that an
operator who follows it is asked nothing the guide does not explain."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def template_parameters():
    """The names under `Parameters:` (read as text: the template's !Ref and !Sub
    tags mean nothing to a plain YAML loader, and the names are all we need)."""
    text = (REPO / "template.yaml").read_text()
    section = re.search(r"^Parameters:\n(.*?)^\S", text, re.M | re.S)
    assert section, "template.yaml has no Parameters section"
    return re.findall(r"^  ([A-Za-z0-9]+):", section.group(1), re.M)


def deploy_guide_table():
    """The first column of the parameters table of README's 'Build and deploy' step."""
    readme = (REPO / "README.md").read_text()
    guide = readme[readme.index("## Deploy to AWS"):]
    table = re.search(r"^\| parameter \|.*?\n((?:\|.*\n)+)", guide, re.M)
    assert table, "README's deploy guide has no '| parameter |' table"
    return re.findall(r"^\| `([A-Za-z0-9]+)` \|", table.group(1), re.M)


def test_the_deploy_guide_lists_every_template_parameter():
    parameters = template_parameters()
    assert parameters, "no parameter found in template.yaml"
    listed = deploy_guide_table()
    assert [p for p in parameters if p not in listed] == [], \
        "parameters of template.yaml missing from README's deploy guide table"
    assert [p for p in listed if p not in parameters] == [], \
        "README's deploy guide lists parameters that template.yaml does not declare"
