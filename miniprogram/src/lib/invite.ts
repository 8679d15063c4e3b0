// Invite codes as sales staff hand them out: typed, or scanned from a QR code that holds
// either the bare code or a link carrying it (?inviteCode=… / ?invite=… / ?code=…).
export function inviteFromScan(text: string): string {
  const m = /[?&](?:inviteCode|invite|code)=([^&#]+)/.exec(text)
  return (m ? decodeURIComponent(m[1]) : text).trim().toUpperCase()
}
