// System status: the ERP banner for everyone, the details for administrators.

export const SYSTEM_STATUS = `query SystemStatus {
  systemStatus { erpState lastCheckAt banner degraded }
}`

export const MONITORING = `query Monitoring {
  systemStatus {
    erpState
    lastCheckAt
    banner
    degraded
    detail {
      latencyP50Ms latencyP95Ms consecutiveFailures circuitState
      backupConfigured backupInUse lastGoodDataAt lastError
    }
  }
  performance { windowS count errors errorRate p95Ms operations { operation count errorRate p95Ms } }
}`
