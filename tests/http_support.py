"""Raw HTTP against the local server, for what the SDK does not reach (/_local, wire checks)."""

import requests


class Http:
    """Raw HTTP against the local TaskRouter with the account's Basic auth."""

    def __init__(self, taskrouter) -> None:
        self.base = taskrouter.base_url
        self.auth = (taskrouter.account_sid, taskrouter.auth_token)
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"

    def request(self, method: str, path: str, *, auth=..., **kwargs) -> requests.Response:
        auth = self.auth if auth is ... else auth
        return self.session.request(method, self.url(path), auth=auth, timeout=10, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data=None, **kwargs) -> requests.Response:
        return self.request("POST", path, data=data, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, data=None, status: int | None = None) -> dict:
        response = self.request(method, path, data=data)
        expected = status or {"POST": 200, "GET": 200, "DELETE": 204}[method]
        assert response.status_code == expected, (method, path, response.status_code, response.text)
        return response.json() if response.content else {}
