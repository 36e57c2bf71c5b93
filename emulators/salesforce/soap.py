"""SOAP partner login: parse the envelope by local name, answer with the real success or fault envelope."""

from __future__ import annotations

from xml.etree import ElementTree
from xml.sax.saxutils import escape

from emulators.salesforce.state import SalesforceState

FAULT_MESSAGES = {
    "INVALID_LOGIN": "Invalid username, password, security token; or user locked out.",
    "LOGIN_MUST_USE_SECURITY_TOKEN": "Invalid username, password, security token; or user locked out. Are you at a "
    "new location? When accessing Salesforce--either via a desktop client or the API--from outside of your "
    "company's trusted networks, you must add a security token to your password to log in.",
    "API_DISABLED_FOR_ORG": "API is not enabled for this Organization or Partner",
    "INVALID_OPERATION_WITH_EXPIRED_PASSWORD": "The users password has expired, you must call SetPassword before "
    "attempting any other API operations",
}


def parse_login(body: bytes) -> tuple[str, str] | None:
    """(username, password) from a login envelope, whatever the namespace prefixes; None if not a login."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    values: dict[str, str] = {}
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1]
        if local in ("username", "password") and local not in values:
            values[local] = element.text or ""
    if "username" not in values:
        return None
    return values["username"], values.get("password", "")


def fault(code: str, message: str | None = None) -> str:
    text = escape(message or FAULT_MESSAGES.get(code, code))
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        'envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {text}</faultstring>"
        f'<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{text}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body>"
        "</soapenv:Envelope>"
    )


def success(state: SalesforceState, base_url: str, version: str, session_id: str, user_id: str) -> str:
    user = state.users[user_id]
    org = state.org_id
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        'envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{base_url}/services/Soap/m/{version}/{org}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
        f"<serverUrl>{base_url}/services/Soap/u/{version}/{org}</serverUrl>"
        f"<sessionId>{escape(session_id)}</sessionId><userId>{user_id}</userId>"
        "<userInfo><accessibilityMode>false</accessibilityMode><currencySymbol>$</currencySymbol>"
        f"<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode><organizationId>{org}</organizationId>"
        f"<organizationMultiCurrency>false</organizationMultiCurrency><organizationName>{escape(state.org_name)}"
        f'</organizationName><profileId>{user["ProfileId"]}</profileId><roleId xsi:nil="true"/>'
        "<sessionSecondsValid>7200</sessionSecondsValid>"
        f"<userEmail>{escape(user['Email'])}</userEmail><userFullName>{escape(user['Name'])}</userFullName>"
        f"<userId>{user_id}</userId><userLanguage>{user['LanguageLocaleKey']}</userLanguage>"
        f"<userLocale>{user['LocaleSidKey']}</userLocale><userName>{escape(user['Username'])}</userName>"
        f"<userTimeZone>{user['TimeZoneSidKey']}</userTimeZone><userType>Standard</userType>"
        "<userUiSkin>Theme3</userUiSkin></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def check_login(state: SalesforceState, username: str, password: str) -> tuple[str | None, str | None]:
    """(user id, None) on success, else (None, fault code)."""
    if state.login_rejection:
        return None, state.login_rejection
    creds = state.credentials
    if username.lower() != creds.username.lower():
        return None, "INVALID_LOGIN"
    if password == creds.password + creds.security_token:
        return state.admin_id, None
    if password == creds.password:
        return None, "LOGIN_MUST_USE_SECURITY_TOKEN"
    return None, "INVALID_LOGIN"
