"""Parses `render --format terraform` with python-hcl2 (PyPI) and prints, as JSON, every policy
it holds: {"RESOURCE_TYPE.NAME.ATTRIBUTE": document}, and the resource list. The heredocs are
decoded as Terraform reads them ($${ and %%{ unescaped), so the documents can be compared with
`render --output json`. Usage: python terraform_policies.py FILE.tf
"""

import json
import sys

import hcl2


def unquote(s):
    return s[1:-1] if isinstance(s, str) and len(s) >= 2 and s[0] == s[-1] == '"' else s


def heredoc(s):
    s = unquote(s)
    head, _, body = s.partition("\n")
    marker = head.removeprefix("<<-").removeprefix("<<")
    body = body.rstrip()
    if not body.endswith(marker):
        raise ValueError(f"not a heredoc: {s[:40]!r}")
    text = body[: -len(marker)].replace("\\n", "\n").replace('\\"', '"')
    return json.loads(text.replace("$${", "${").replace("%%{", "%{"))


def main(path):
    with open(path) as f:
        doc = hcl2.load(f)
    policies, resources = {}, []
    for block in doc.get("resource", []):
        for rtype, named in block.items():
            for name, attrs in named.items():
                rtype, name = unquote(rtype), unquote(name)
                resources.append(f"{rtype}.{name}")
                for attr in ("assume_role_policy", "policy"):
                    if attr in attrs:
                        policies[f"{rtype}.{name}.{attr}"] = heredoc(attrs[attr])
                for attr in ("bucket", "user", "role", "name"):
                    if attr in attrs:
                        policies[f"{rtype}.{name}.{attr}"] = unquote(attrs[attr])
    print(json.dumps({"resources": resources, "values": policies}))


if __name__ == "__main__":
    main(sys.argv[1])
