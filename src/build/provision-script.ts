// The provisioning script a build runs inside Windows (PowerShell 5.1, as on every Windows Server
// since 2016). Windows Setup's one autologon starts it from the answer media; it copies itself and
// its plan to C:\winsmith, registers itself to start again at every boot (as SYSTEM, so reboots need
// no logon), reports `installed` and restarts. Then it runs the plan's steps from where it stopped,
// reporting each step's start and end (and each restart) to winsmith, reports `provisioned` and
// restarts once more. At that last boot it removes every trace of itself (the plan holds the
// build's report token), reports `generalize` and runs Sysprep, which shuts the VM down. The
// restarts after `installed` and `provisioned` leave the disk at rest where winsmith keeps a
// snapshot to resume a build from (src/build/build-phases.ts).

export const PROVISION_SCRIPT = String.raw`# winsmith provisioning: runs the build's steps (C:\winsmith\plan.json), then Sysprep.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Root = 'C:\winsmith'
$TaskName = 'winsmith-provision'

# 1. The plan, and where the last boot left off.
$Plan = Get-Content -Raw -Path (Join-Path $PSScriptRoot 'plan.json') | ConvertFrom-Json
$StateFile = "$Root\state.json"

# 2. Reports: one JSON object per event, retried; a report that cannot be sent is logged and the
#    work goes on (winsmith's phase timeout notices a build that stays silent).
function Send-Report($Body) {
  $json = $Body | ConvertTo-Json -Depth 4 -Compress
  Add-Content -Path "$Root\provision.log" -Value $json
  for ($try = 1; $try -le 5; $try++) {
    try {
      Invoke-RestMethod -Method Post -Uri $Plan.reportUrl -Body $json -ContentType 'application/json' -Headers @{ Authorization = "Bearer $($Plan.token)" } -TimeoutSec 30 | Out-Null
      return
    } catch { Start-Sleep -Seconds (5 * $try) }
  }
}

function Save-State([int]$Next, [int]$Round) {
  [pscustomobject]@{ next = $Next; round = $Round } | ConvertTo-Json | Set-Content -Path $StateFile
}

# 3. First run (the autologon, from the answer media): copy the script and its files to C:\winsmith,
#    start again at every boot (as SYSTEM) until the work is done, and restart: Windows is installed.
if ($PSScriptRoot -ne $Root) {
  New-Item -ItemType Directory -Force -Path $Root | Out-Null
  Copy-Item -Recurse -Force -Path (Join-Path $PSScriptRoot '*') -Destination $Root
  $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument "-NoProfile -ExecutionPolicy Bypass -File $Root\provision.ps1"
  $trigger = New-ScheduledTaskTrigger -AtStartup
  Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -User 'SYSTEM' -RunLevel Highest -Force | Out-Null
  Save-State 0 0
  Send-Report @{ event = 'installed' }
  Restart-Computer -Force
  exit 0
}
$State = Get-Content -Raw $StateFile | ConvertFrom-Json

function Restart-ForStep([int]$Next, [int]$Round) {
  Save-State $Next $Round
  Send-Report @{ event = 'restart'; step = $Next; round = $Round }
  Restart-Computer -Force
  exit 0
}

# 4. The steps, from where the last boot left off. Each returns whether Windows needs a restart.
function Invoke-Step($Step, [int]$Index, [int]$Round) {
  switch ($Step.kind) {
    'powershell' {
      $out = & powershell.exe -NoProfile -ExecutionPolicy Bypass -File "$Root\$($Step.script)" 2>&1 | Out-String
      if ($LASTEXITCODE -ne 0) { throw "the script ended with exit code $LASTEXITCODE" + [Environment]::NewLine + $out }
      return @{ restart = $false; output = $out }
    }
    'files' {
      foreach ($copy in $Step.copies) {
        New-Item -ItemType Directory -Force -Path $copy.dest | Out-Null
        Copy-Item -Force -Path "$Root\$($copy.file)" -Destination $copy.dest
      }
      return @{ restart = $false; output = "$($Step.copies.Count) file(s) copied" }
    }
    'features' {
      $result = Install-WindowsFeature -Name $Step.names -IncludeManagementTools
      if (-not $result.Success) { throw "Install-WindowsFeature failed: $($result.ExitCode)" }
      return @{ restart = ([string]$result.RestartNeeded -ne 'No'); output = ($result.FeatureResult | Out-String) }
    }
    'packages' {
      $restart = $false
      foreach ($file in $Step.files) {
        $r = Add-WindowsPackage -Online -NoRestart -PackagePath "$Root\$file"
        if ($r.RestartNeeded) { $restart = $true }
      }
      return @{ restart = $restart; output = "$($Step.files.Count) package(s) added" }
    }
    'windowsUpdate' {
      # One round: search, download and install every update not installed; the step repeats after
      # a restart until a search finds none, or maxRounds rounds have run.
      $session = New-Object -ComObject Microsoft.Update.Session
      $found = $session.CreateUpdateSearcher().Search('IsInstalled=0 and IsHidden=0 and Type=''Software''').Updates
      if ($found.Count -eq 0) { return @{ restart = $false; output = 'no update left'; done = $true } }
      $updates = New-Object -ComObject Microsoft.Update.UpdateColl
      foreach ($u in $found) { if (-not $u.EulaAccepted) { $u.AcceptEula() }; $updates.Add($u) | Out-Null }
      $download = $session.CreateUpdateDownloader(); $download.Updates = $updates; $download.Download() | Out-Null
      $install = $session.CreateUpdateInstaller(); $install.Updates = $updates; $r = $install.Install()
      $names = ($found | ForEach-Object { $_.Title }) -join [Environment]::NewLine
      $last = ($Round + 1) -ge $Step.maxRounds
      return @{ restart = $r.RebootRequired; output = $names; done = $last; again = -not $last }
    }
    'restart' { return @{ restart = $true; output = 'restart' } }
  }
}

for ($i = [int]$State.next; $i -lt $Plan.steps.Count; $i++) {
  $step = $Plan.steps[$i]
  $round = if ($i -eq [int]$State.next) { [int]$State.round } else { 0 }
  Send-Report @{ event = 'start'; step = $i; kind = $step.kind; round = $round }
  try {
    $r = Invoke-Step $step $i $round
  } catch {
    Send-Report @{ event = 'end'; step = $i; ok = $false; output = "$_" }
    Save-State $i $round
    exit 1
  }
  $output = [string]$r.output
  if ($output.Length -gt 4096) { $output = $output.Substring($output.Length - 4096) }
  if ($r.again) {
    # A Windows Update round that installed something: the same step again after a restart.
    Send-Report @{ event = 'round'; step = $i; round = $round; output = $output }
    Restart-ForStep $i ($round + 1)
  }
  Send-Report @{ event = 'end'; step = $i; ok = $true; output = $output }
  if ($r.restart) { Restart-ForStep ($i + 1) 0 }
  Save-State ($i + 1) 0
}

# 5. The last step done: restart once more, so that the disk is at rest between provisioning and
#    Sysprep; at the next boot, no trace left (the plan holds the report token), then Sysprep,
#    which shuts down.
if (-not (Test-Path "$Root\provisioned")) {
  Set-Content -Path "$Root\provisioned" -Value 'yes'
  Send-Report @{ event = 'provisioned' }
  Restart-Computer -Force
  exit 0
}
Send-Report @{ event = 'generalize' }
$sysprep = @('/generalize', '/oobe', '/shutdown', '/quiet')
if ($Plan.generalize.vmMode) { $sysprep += '/mode:vm' }
if ($Plan.generalize.unattend) {
  Copy-Item -Force -Path "$Root\$($Plan.generalize.unattend)" -Destination 'C:\Windows\Panther\unattend.xml'
  $sysprep += '/unattend:C:\Windows\Panther\unattend.xml'
}
Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false
Remove-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon' -Name 'AutoAdminLogon', 'DefaultPassword' -ErrorAction SilentlyContinue
Set-Location 'C:\'
Remove-Item -Recurse -Force -Path $Root
& "$env:SystemRoot\System32\Sysprep\sysprep.exe" $sysprep
`;
